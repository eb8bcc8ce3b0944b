"""HL7 v2 (ER7) parsing: delimiters from the message, lazy splitting, paths as the spec writes them."""

from medlake.formats.hl7v2.ack import build_ack
from medlake.formats.hl7v2.batch import Batch
from medlake.formats.hl7v2.delimiters import DEFAULT, Delimiters, read_delimiters
from medlake.formats.hl7v2.escape import escape, unescape
from medlake.formats.hl7v2.message import NULL, Message, Segment, leaf, split_fields
from medlake.formats.hl7v2.parse import Hl7File, parse_hl7
from medlake.formats.hl7v2.path import Path, parse_path

__all__ = [
    "DEFAULT",
    "NULL",
    "Batch",
    "Delimiters",
    "Hl7File",
    "Message",
    "Path",
    "Segment",
    "build_ack",
    "escape",
    "leaf",
    "parse_hl7",
    "parse_path",
    "read_delimiters",
    "split_fields",
    "unescape",
]
