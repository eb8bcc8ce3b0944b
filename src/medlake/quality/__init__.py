"""medlake.quality."""
