"""Pure mappings from bronze records to FHIR R4 resources, one module per source family."""
