"""Getting a log in: read the file, map its columns and events, clean it, report what happened.

Modules::

    reader   read_table: delimiter, encoding, gzip, Parquet, size limit
    clean    read_log / clean_frame: map and clean into canonical events
    values   id_text, parse_timestamps: typed values out of a log's text
    report   IngestReport, IngestResult: what was read, kept and skipped
    options  IngestOptions: how a dataset's logs are read
    upload   the Upload page's flow: stage, inspect, map, validate

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["reader", "clean", "values", "report", "options", "upload"]
