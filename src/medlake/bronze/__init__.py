"""medlake.bronze."""
