"""medlake.silver.views."""
