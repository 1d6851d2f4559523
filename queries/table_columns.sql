-- one row per column of every documented table: its type, meaning and the table's grain
SELECT table_name, grain, column_name, column_type, meaning FROM catalog_columns
