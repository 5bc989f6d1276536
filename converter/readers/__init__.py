"""Readers turn a file into grids, and grids into declarations.

Whatever the file (text export, xlsx, xlsm, xls, ods), it becomes a ``Grid`` of cell values; one locating
logic (``legacy.locate_forms``) then finds the form's fields by their labels.
"""
