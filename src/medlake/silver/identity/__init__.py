"""medlake.silver.identity."""
