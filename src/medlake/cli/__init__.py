"""medlake.cli."""
