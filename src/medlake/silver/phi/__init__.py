"""PHI in medlake: the Safe Harbor categories, the catalogue of which elements and columns
carry them, security labels on silver resources, and Safe Harbor de-identification."""
