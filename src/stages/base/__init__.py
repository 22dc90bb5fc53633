"""What every stage script shares: the process set-up run before torch is imported (process.py) and the layout,
error handling and worker pool (common.py)."""
