"""medlake.export."""
