"""Which SQL functions a query may call.

Deny by default: a function passes only when it is on an allow-list. SQLGlot turns the functions
it knows into typed nodes (`exp.Count`, `exp.DateAdd`, ...), checked against
`ALLOWED_FUNCTION_TYPES`; a name it does not know becomes `exp.Anonymous`, checked by name against
`ALLOWED_FUNCTION_NAMES`. A deny-list alone would let through every function nobody thought of:
a look-alike name (`pg_sleеp` with a Cyrillic "е"), a user-defined function, a vendor's new
file reader. The deny-lists below give a precise reason for the functions that are refused on
purpose, and document the classes the issue names; anything else unknown is refused as unknown.
"""

from __future__ import annotations

from sqlglot import exp

# --- refused on purpose, with the reason a person reads ---------------------------------------

SLEEPS = "sleeps or burns CPU and memory"
FILES = "reads or writes files, the network or another database"
SEQUENCES = "changes a sequence"
ADMIN = "changes server settings or sessions"
INFO = "reveals the server, its schema, its version or its accounts"
GENERATORS = "generates an unbounded number of rows"
REMOTE = "calls a model or service outside the database"

DENIED_FUNCTION_NAMES: dict[str, str] = {
    **dict.fromkeys(
        "pg_sleep pg_sleep_for pg_sleep_until sleep benchmark waitfor randomblob zeroblob "
        "repeat replicate space".split(),
        SLEEPS,
    ),
    **dict.fromkeys(
        "pg_read_file pg_read_binary_file pg_ls_dir pg_ls_logdir pg_ls_waldir pg_ls_tmpdir "
        "pg_stat_file pg_file_write lo_import lo_export lo_get lo_put lo_open lo_create "
        "lo_unlink lo_from_bytea dblink dblink_exec dblink_connect dblink_open dblink_send_query "
        "query_to_xml query_to_xml_and_xmlschema query_to_xmlschema table_to_xml "
        "table_to_xmlschema table_to_xml_and_xmlschema cursor_to_xml cursor_to_xmlschema "
        "database_to_xml database_to_xmlschema database_to_xml_and_xmlschema schema_to_xml "
        "schema_to_xmlschema schema_to_xml_and_xmlschema load_extension readfile writefile edit "
        "fts3_tokenizer read_csv read_csv_auto read_parquet parquet_scan read_json "
        "read_json_auto read_json_objects read_text read_blob read_ndjson read_ndjson_auto "
        "glob sniff_csv parquet_metadata parquet_schema openrowset openquery opendatasource "
        "openxml load_file sys_exec sys_eval getenv".split(),
        FILES,
    ),
    **dict.fromkeys("nextval setval currval lastval next_value_for".split(), SEQUENCES),
    **dict.fromkeys(
        "pg_terminate_backend pg_cancel_backend set_config current_setting pg_reload_conf "
        "pg_rotate_logfile pg_promote pg_switch_wal pg_create_restore_point pg_advisory_lock "
        "pg_advisory_xact_lock pg_try_advisory_lock pg_notify txid_current pg_current_xact_id "
        "pg_export_snapshot pg_logical_emit_message".split(),
        ADMIN,
    ),
    **dict.fromkeys(
        "version sqlite_version sqlite_source_id sqlite_compileoption_get "
        "sqlite_compileoption_used database schema user system_user current_user session_user "
        "current_role current_database current_schema current_catalog connection_id "
        "pg_backend_pid inet_server_addr inet_server_port inet_client_addr host_name suser_name "
        "suser_sname db_name user_name app_name serverproperty".split(),
        INFO,
    ),
    **dict.fromkeys(
        "generate_series generate_subscripts range unnest sequence explode "
        "generate_date_array generate_timestamp_array".split(),
        GENERATORS,
    ),
}

# Whole families: every PostgreSQL admin and catalog function starts with pg_, and so on.
DENIED_FUNCTION_PREFIXES: dict[str, str] = {
    "pg_": ADMIN,
    "lo_": FILES,
    "dblink": FILES,
    "xp_": FILES,
    "sp_": FILES,
    "sqlite_": INFO,
    "pragma_": INFO,  # SQLite's table-valued PRAGMA functions (pragma_table_info, ...)
    "duckdb_": INFO,
    "read_": FILES,
}

DENIED_FUNCTION_TYPES: dict[type[exp.Expression], tuple[str, str]] = {
    exp.Repeat: ("repeat", SLEEPS),
    exp.Space: ("space", SLEEPS),
    exp.ReadCSV: ("read_csv", FILES),
    exp.ReadParquet: ("read_parquet", FILES),
    exp.NextValueFor: ("next value for", SEQUENCES),
    exp.GenerateSeries: ("generate_series", GENERATORS),
    exp.ExplodingGenerateSeries: ("generate_series", GENERATORS),
    exp.GenerateDateArray: ("generate_date_array", GENERATORS),
    exp.GenerateTimestampArray: ("generate_timestamp_array", GENERATORS),
    exp.Generator: ("generator", GENERATORS),
    exp.Explode: ("explode", GENERATORS),
    exp.Posexplode: ("posexplode", GENERATORS),
    exp.Unnest: ("unnest", GENERATORS),
    exp.CurrentUser: ("current_user", INFO),
    exp.SessionUser: ("session_user", INFO),
    exp.CurrentRole: ("current_role", INFO),
    exp.CurrentSchema: ("current_schema", INFO),
    exp.CurrentSchemas: ("current_schemas", INFO),
    exp.CurrentCatalog: ("current_catalog", INFO),
    exp.CurrentDatabase: ("current_database", INFO),
    exp.CurrentVersion: ("version", INFO),
    exp.CurrentUserId: ("current_user_id", INFO),
    exp.CurrentIpAddress: ("current_ip_address", INFO),
    exp.AIAgg: ("ai_agg", REMOTE),
    exp.AIClassify: ("ai_classify", REMOTE),
    exp.AIEmbed: ("ai_embed", REMOTE),
    exp.AIGenerate: ("ai_generate", REMOTE),
    exp.GenerateEmbedding: ("generate_embedding", REMOTE),
    exp.GenerateText: ("generate_text", REMOTE),
    exp.Predict: ("predict", REMOTE),
}

# --- allowed: what analytics over a brokerage's tables need ------------------------------------

ALLOWED_FUNCTION_TYPES: frozenset[type[exp.Expression]] = frozenset(
    {
        # logic and conditionals
        exp.And,
        exp.Or,
        exp.Xor,
        exp.Case,
        exp.If,
        exp.Coalesce,
        exp.Nullif,
        exp.Nvl2,
        exp.Greatest,
        exp.Least,
        exp.Array,  # ARRAY[...] literals and ARRAY(subquery), as in `= ANY(ARRAY[...])`
        exp.Exists,
        exp.EqualNull,
        # casts (the target type is checked by the allowed_types rule)
        exp.Cast,
        exp.TryCast,
        exp.CastToStrType,
        # aggregates
        exp.Count,
        exp.CountIf,
        exp.Sum,
        exp.Avg,
        exp.Min,
        exp.Max,
        exp.GroupConcat,
        exp.ArrayAgg,
        exp.Median,
        exp.Mode,
        exp.PercentileCont,
        exp.PercentileDisc,
        exp.Quantile,
        exp.ApproxDistinct,
        exp.ApproxQuantile,
        exp.Stddev,
        exp.StddevPop,
        exp.StddevSamp,
        exp.Variance,
        exp.VariancePop,
        exp.Corr,
        exp.CovarPop,
        exp.CovarSamp,
        exp.ArgMax,
        exp.ArgMin,
        exp.AnyValue,
        exp.First,
        exp.Last,
        exp.LogicalAnd,
        exp.LogicalOr,
        exp.Skewness,
        exp.Kurtosis,
        exp.RegrSlope,
        exp.RegrIntercept,
        exp.RegrR2,
        exp.RegrCount,
        exp.Grouping,
        exp.GroupingId,
        # window functions
        exp.RowNumber,
        exp.Rank,
        exp.DenseRank,
        exp.PercentRank,
        exp.CumeDist,
        exp.Ntile,
        exp.Lag,
        exp.Lead,
        exp.FirstValue,
        exp.LastValue,
        exp.NthValue,
        # numbers
        exp.Abs,
        exp.Ceil,
        exp.Floor,
        exp.Round,
        exp.Trunc,
        exp.Sign,
        exp.Sqrt,
        exp.Cbrt,
        exp.Exp,
        exp.Ln,
        exp.Log,
        exp.Pow,
        exp.Pi,
        exp.Degrees,
        exp.Radians,
        exp.Sin,
        exp.Cos,
        exp.Tan,
        exp.Asin,
        exp.Acos,
        exp.Atan,
        exp.Atan2,
        exp.Cot,
        exp.SafeDivide,
        exp.Rand,
        exp.WidthBucket,
        exp.IsNan,
        exp.IsInf,
        # text
        exp.Upper,
        exp.Lower,
        exp.Length,
        exp.BitLength,
        exp.ByteLength,
        exp.Substring,
        exp.SubstringIndex,
        exp.Trim,
        exp.Replace,
        exp.Concat,
        exp.ConcatWs,
        exp.StrPosition,
        exp.Left,
        exp.Right,
        exp.Initcap,
        exp.Reverse,
        exp.Translate,
        exp.Pad,  # length bounded by allowed_functions
        exp.SplitPart,
        exp.Ascii,
        exp.Chr,
        exp.Unicode,
        exp.Format,
        exp.StartsWith,
        exp.EndsWith,
        exp.Contains,
        exp.RegexpLike,
        exp.RegexpILike,
        exp.RegexpReplace,
        exp.RegexpExtract,
        exp.RegexpCount,
        exp.RegexpSubstr,
        exp.Collate,
        exp.ToChar,
        exp.NumberToStr,
        exp.ToNumber,
        exp.Typeof,
        exp.Stuff,
        exp.MD5,
        # dates and times
        exp.CurrentDate,
        exp.CurrentTimestamp,
        exp.CurrentTime,
        exp.CurrentDatetime,
        exp.Localtime,
        exp.Localtimestamp,
        exp.UtcDate,
        exp.UtcTime,
        exp.UtcTimestamp,
        exp.Date,
        exp.Datetime,
        exp.Time,
        exp.Timestamp,
        exp.DateAdd,
        exp.DateSub,
        exp.DateDiff,
        exp.DateTrunc,
        exp.DateBin,
        exp.DatetimeAdd,
        exp.DatetimeSub,
        exp.DatetimeDiff,
        exp.DatetimeTrunc,
        exp.TimestampAdd,
        exp.TimestampSub,
        exp.TimestampDiff,
        exp.TimestampTrunc,
        exp.TimeAdd,
        exp.TimeSub,
        exp.TimeDiff,
        exp.TimeTrunc,
        exp.Extract,
        exp.Year,
        exp.Quarter,
        exp.Month,
        exp.Week,
        exp.WeekOfYear,
        exp.Day,
        exp.DayOfWeek,
        exp.DayOfWeekIso,
        exp.DayOfMonth,
        exp.DayOfYear,
        exp.Hour,
        exp.Minute,
        exp.Second,
        exp.Dayname,
        exp.Monthname,
        exp.LastDay,
        exp.AddMonths,
        exp.MonthsBetween,
        exp.MakeInterval,
        exp.JustifyDays,
        exp.JustifyHours,
        exp.JustifyInterval,
        exp.DateFromParts,
        exp.TimestampFromParts,
        exp.TimeFromParts,
        exp.DateStrToDate,
        exp.DateToDateStr,
        exp.StrToDate,
        exp.StrToTime,
        exp.StrToUnix,
        exp.TimeStrToDate,
        exp.TimeStrToTime,
        exp.TimeStrToUnix,
        exp.TimeToStr,
        exp.TimeToTimeStr,
        exp.TimeToUnix,
        exp.TsOrDsAdd,
        exp.TsOrDsDiff,
        exp.TsOrDsToDate,
        exp.TsOrDsToDateStr,
        exp.TsOrDsToDatetime,
        exp.TsOrDsToTime,
        exp.TsOrDsToTimestamp,
        exp.UnixToStr,
        exp.UnixToTime,
        exp.UnixToTimeStr,
        exp.UnixDate,
        exp.UnixSeconds,
        exp.ConvertTimezone,
        # JSON held in text columns
        exp.JSONExtract,
        exp.JSONExtractScalar,
        exp.JSONBExtract,
        exp.JSONBExtractScalar,
        exp.JSONType,
        exp.ParseJSON,
        exp.JSONObject,
        exp.JSONArray,
        exp.JSONArrayAgg,
        exp.JSONObjectAgg,
    }
)

# Names SQLGlot leaves as `exp.Anonymous` in one of the five dialects, each safe in all five.
ALLOWED_FUNCTION_NAMES: frozenset[str] = frozenset(
    # SQLite
    "date time datetime julianday unixepoch strftime printf format iif ifnull instr substr "
    "total typeof likely unlikely char hex unicode ltrim rtrim trim sign "
    "json json_extract json_valid json_type json_array_length json_array json_object "
    "json_group_array json_group_object json_quote "
    # PostgreSQL
    "date_part date_trunc to_char to_date to_timestamp to_number age justify_days make_date "
    "make_timestamp make_interval now clock_timestamp statement_timestamp transaction_timestamp "
    "split_part initcap strpos btrim char_length character_length octet_length isfinite "
    "date_bin bool_and bool_or every width_bucket "
    # T-SQL
    "getdate getutcdate sysdatetime sysutcdatetime dateadd datediff datediff_big datepart "
    "datename eomonth datefromparts isnull len charindex patindex choose str count_big square "
    "log10 try_convert "
    # MySQL
    "curdate curtime date_format date_add date_sub timestampdiff timestampadd dayofweek "
    "dayname monthname weekday quarter last_day str_to_date unix_timestamp from_unixtime "
    "locate lcase ucase truncate ceiling "
    # DuckDB
    "date_diff strptime epoch max_by min_by quantile_cont quantile_disc approx_count_distinct "
    "count_if any_value "
    # common
    "abs round floor ceil upper lower length replace concat concat_ws coalesce nullif "
    "greatest least left right lpad rpad mod power pow sqrt ln log exp pi".split()
)


def function_name(node: exp.Func) -> str:
    """The name a function is called by, lower case.

    >>> import sqlglot
    >>> function_name(sqlglot.parse_one("SELECT PG_Sleep(1)", read="postgres").find(exp.Func))
    'pg_sleep'
    >>> function_name(sqlglot.parse_one("SELECT generate_series(1, 9)", "postgres").find(exp.Func))
    'generate_series'
    """
    if isinstance(node, exp.Anonymous | exp.AnonymousAggFunc):
        return str(node.this).lower()
    denied = DENIED_FUNCTION_TYPES.get(type(node))
    return denied[0] if denied else node.sql_name().lower()


def denial(node: exp.Func) -> str | None:
    """Why a function is refused on purpose, or None when it is not on a deny-list.

    >>> import sqlglot
    >>> denial(sqlglot.parse_one("SELECT nextval('s')", read="postgres").find(exp.Func))
    'changes a sequence'
    >>> denial(sqlglot.parse_one("SELECT ROUND(1.5)").find(exp.Func)) is None
    True
    """
    typed = DENIED_FUNCTION_TYPES.get(type(node))
    if typed:
        return typed[1]
    if not isinstance(node, exp.Anonymous | exp.AnonymousAggFunc):
        return None
    name = function_name(node)
    if name in DENIED_FUNCTION_NAMES:
        return DENIED_FUNCTION_NAMES[name]
    for prefix, why in DENIED_FUNCTION_PREFIXES.items():
        if name.startswith(prefix):
            return why
    return None


def is_allowed(node: exp.Func, extra_names: frozenset[str] = frozenset()) -> bool:
    """True when the function is on an allow-list (and not denied).

    >>> import sqlglot
    >>> is_allowed(sqlglot.parse_one("SELECT julianday('now')").find(exp.Func))
    True
    >>> is_allowed(sqlglot.parse_one("SELECT my_udf(1)").find(exp.Func))
    False
    >>> is_allowed(sqlglot.parse_one("SELECT my_udf(1)").find(exp.Func), frozenset({"my_udf"}))
    True
    """
    if denial(node) is not None:
        return False
    if isinstance(node, exp.Anonymous | exp.AnonymousAggFunc):
        name = function_name(node)
        return name in ALLOWED_FUNCTION_NAMES or name in extra_names
    return type(node) in ALLOWED_FUNCTION_TYPES
