"""The surveillance auto-patrol's pure checks (``checks``): what a guard looks for in a camera's picture."""
