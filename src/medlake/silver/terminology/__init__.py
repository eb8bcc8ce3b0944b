"""medlake.silver.terminology."""
