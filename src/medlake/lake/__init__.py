"""medlake.lake."""
