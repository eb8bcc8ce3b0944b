"""medlake.synth."""
