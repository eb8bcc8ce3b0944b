"""medlake.serve."""
