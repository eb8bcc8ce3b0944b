"""Text templates written by `medlake init`."""

EXAMPLE_CONFIG = """\
# medlake.yaml — one project, many tenants (customers), each with its own sources.
# Paths are relative to this file. Reference: docs/configuration.md

# Where the lake lives: a local folder, or s3://bucket/prefix (then set storage_options).
lake: ./lake
# storage_options:            # passed to delta-rs and boto3 for s3:// lakes
#   AWS_ENDPOINT_URL: http://127.0.0.1:9000
#   AWS_REGION: us-east-1

tenants:
  - name: acme                  # lower-case letters, digits and _
    timezone: America/New_York  # IANA zone of naive timestamps (sources may override)
    sources:
      # A pipe-delimited EHR export, mapped to FHIR by a mapping spec.
      - name: ehr
        kind: delimited         # delimited | fhir | hl7v2 | x12
        location: ./data/ehr/   # a folder (recursive), a file or a glob
        mapping: medlake-ehr    # a shipped spec name, or ./specs/my-ehr.yaml
        timezone: America/Chicago
        format:
          delimiter: "|"        # any string, e.g. ",", "\\t", "^|^"
          quote: '"'            # or null for no quoting
          header: true          # false: give `columns: [a, b, c]`
          encoding: auto        # auto detects UTF-8/16/32 BOMs; or e.g. cp1252

      # Synthea's CSV export, through the shipped spec.
      - name: synthea
        kind: delimited
        location: ./data/synthea-csv/
        mapping: synthea-csv
        timezone: UTC

      # FHIR R4 bundles (any bundle type) or NDJSON.
      - name: fhir_ehr
        kind: fhir
        location: ./data/fhir/
        # system: urn:oid:2.16.840.1.113883.3.999   # source system URI (default urn:medlake:<tenant>:<source>)

      # HL7 v2 files and X12 EDI are landed now and parsed once their parsers are enabled.
      - name: lab
        kind: hl7v2
        location: ./data/lab/
"""
