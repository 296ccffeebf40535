"""The surveillance auto-patrol's pure parts: what a guard looks for in a camera's picture (``checks``)
and when the full rounds fall (``rounds``). The device that visits the cameras is
edge/processors/patrol.py; the drivers that grab the pictures are drivers/surveillance/."""
