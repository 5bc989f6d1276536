"""The Excel add-in: live indicator functions and ribbon handlers, a thin face over ``converter``.

``converter`` never imports this package; this package imports ``converter``.
"""

# The Windows Pythons the offline bundle (``bundle.py``) carries wheels for. Here, not in ``bundle.py``, so that the
# command line states them in its help without importing the build tools (``tests/test_startup.py``).
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
