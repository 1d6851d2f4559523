"""Small UI helpers shared by pages: strings, cached reads, the frame, maps and formats."""
