"""Loaders: fetch Seoul's feeds (or read the bundled sample or a file), validate, load, publish."""
