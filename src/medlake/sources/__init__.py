"""medlake.sources."""
