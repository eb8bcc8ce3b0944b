"""medlake.formats."""
