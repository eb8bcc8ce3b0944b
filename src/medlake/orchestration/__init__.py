"""medlake.orchestration."""
