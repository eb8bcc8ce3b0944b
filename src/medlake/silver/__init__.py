"""medlake.silver."""
