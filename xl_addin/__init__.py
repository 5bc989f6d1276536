"""The Excel add-in: live indicator functions and ribbon handlers, a thin face over ``converter``.

``converter`` never imports this package; this package imports ``converter``.
"""
