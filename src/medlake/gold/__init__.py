"""medlake.gold."""
