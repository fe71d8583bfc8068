# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Call detail records: the one place for everything that goes into cdr.conf, res_odbc.conf,
cdr_adaptive_odbc.conf, the ODBC data source in /etc/odbc.ini and the embedded database server
(the asterisk_cdr role's variables, asterisk_cdr_*).

Records always go to CSV (Master.csv, as before). With asterisk_cdr_database they also go to a
MariaDB database through cdr_adaptive_odbc - the one CDR backend both Asterisk 16 and 22 ship for it
(cdr_mysql is gone since Asterisk 19). The database is the PBX's own (installed and set up by the
role, listening on loopback only) or a remote server reached over TLS with its certificate checked.
The PBX's database user may only INSERT into the records' table: a PBX taken over cannot read,
change or delete the office's billing history."""

from __future__ import annotations

import ipaddress
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vpbx.hardened.plugins.module_utils.checks import whole_number

PREFIX = "asterisk_cdr_"
MARKER = "vpbx.hardened"
# One name for the ODBC data source, the res_odbc connection and the adaptive backend's section.
DSN = "vpbx-cdr"
ODBC_INI = "/etc/odbc.ini"
# The embedded server's drop-in: read after Debian's 50-server.cnf, so it wins.
SERVER_CNF = "/etc/mysql/mariadb.conf.d/60-vpbx-cdr.cnf"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ENGINES = {
    # The driver name the Debian/Ubuntu package registers in /etc/odbcinst.ini.
    "mariadb": {"driver": "MariaDB Unicode", "driver_package": "odbc-mariadb", "port": 3306,
                "server_packages": ["mariadb-server", "python3-pymysql"], "service": "mariadb",
                "socket": "/run/mysqld/mysqld.sock"},
}
KEYS = ("database", "database_engine", "database_host", "database_port", "database_name", "database_table",
        "database_user", "database_password", "database_tls_ca_file", "database_connect_timeout")
# The records' columns as cdr_adaptive_odbc fills them by name (Asterisk's own cdr schema,
# contrib/ast-db-manage); `start` is written to calldate (an alias in cdr_adaptive_odbc.conf).
COLUMNS = [
    ("calldate", "DATETIME NOT NULL"), ("clid", "VARCHAR(80)"), ("src", "VARCHAR(80)"), ("dst", "VARCHAR(80)"),
    ("dcontext", "VARCHAR(80)"), ("channel", "VARCHAR(80)"), ("dstchannel", "VARCHAR(80)"),
    ("lastapp", "VARCHAR(80)"), ("lastdata", "VARCHAR(80)"), ("duration", "INTEGER"), ("billsec", "INTEGER"),
    ("disposition", "VARCHAR(45)"), ("amaflags", "INTEGER"), ("accountcode", "VARCHAR(80)"),
    ("uniqueid", "VARCHAR(150)"), ("userfield", "VARCHAR(255)"), ("peeraccount", "VARCHAR(80)"),
    ("linkedid", "VARCHAR(150)"), ("sequence", "INTEGER"),
]
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
HOST = re.compile(r"^[A-Za-z0-9_.:-]+$")

CDR_CONF = """[general]
enable = yes

[csv]
usegmtime = yes
loguniqueid = yes
loguserfield = yes
accountlogs = no
"""
# What the modules need to load before the asterisk_cdr role wrote their files (closed: no
# connection, no backend).
STUBS = {"cdr.conf": CDR_CONF, "res_odbc.conf": "", "cdr_adaptive_odbc.conf": ""}
# The file each module reads: a changed file is applied by reloading it (`module reload cdr` for
# the core's cdr.conf).
# In this order: cdr_adaptive_odbc looks its table up through res_odbc's connection as it reloads.
RELOAD = {"cdr.conf": "cdr", "res_odbc.conf": "res_odbc.so", ODBC_INI: "res_odbc.so",
          "cdr_adaptive_odbc.conf": "cdr_adaptive_odbc.so"}
DATABASE_FILES = ["res_odbc.conf", "cdr_adaptive_odbc.conf"]
# The line that marks the database's files as the collection's (removed when it is switched off).
BY_ROLE = "; %s: rendered by the vpbx.hardened.asterisk_cdr role\n" % MARKER


def settings(v):
    """The role's variables (asterisk_cdr_*), as the plan gets them, and where the asterisk role
    has Asterisk log (cdr_csv writes under it) as which user."""
    out = {key: v.get(PREFIX + key) for key in KEYS}
    out.update(log_dir=v.get("asterisk_log_dir", "/var/log/asterisk"), user=v.get("asterisk_user", "asterisk"),
               group=v.get("asterisk_group", "asterisk"))
    return out


def _bool(value):
    return boolean(value, strict=False)


def enabled(s):
    return _bool(s["database"])


def embedded(s):
    """Whether the database is the PBX's own (installed and set up by the role)."""
    return str(s["database_host"]).strip().lower() in LOOPBACK


def port(s):
    return whole_number(s["database_port"]) or ENGINES.get(s["database_engine"], {}).get("port", 0)


def errors(s, secret_check):
    """Every problem of the settings, each naming the variable and the fix. `secret_check(path,
    value)` judges the password as the subscribers' secrets are judged (and appends its problems)."""
    problems = []
    if str(s["database"]).lower() not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        problems.append("%sdatabase: %r is not a boolean - give true (records also to a database) or false"
                        % (PREFIX, s["database"]))
        return problems
    if not enabled(s):
        return problems
    if s["database_engine"] not in ENGINES:
        problems.append("%sdatabase_engine: %r is not one of %s" % (PREFIX, s["database_engine"],
                                                                    ", ".join(sorted(ENGINES))))
    host = str(s["database_host"] or "")
    if not HOST.match(host):
        problems.append("%sdatabase_host: %r is not a host name or address - give 127.0.0.1 (the PBX's own "
                        "database, installed by the role) or the database server's name" % (PREFIX, host))
    value = whole_number(s["database_port"])
    if value is None or not 0 <= value <= 65535:
        problems.append("%sdatabase_port: %r is not a port - give 0 (the engine's default) or 1-65535"
                        % (PREFIX, s["database_port"]))
    for key in ("database_name", "database_table", "database_user"):
        if not NAME.match(str(s[key] or "")):
            problems.append("%s%s: %r must be letters, digits and _ (not starting with a digit), at most 64"
                            % (PREFIX, key, s[key]))
    timeout = whole_number(s["database_connect_timeout"])
    if timeout is None or not 1 <= timeout <= 60:
        problems.append("%sdatabase_connect_timeout: %r is not 1-60 seconds" % (PREFIX, s["database_connect_timeout"]))
    if HOST.match(host) and not embedded(s):
        ca_file = str(s["database_tls_ca_file"] or "")
        if not ca_file.startswith("/") or any(c in ca_file for c in "\r\n;[]"):
            problems.append("%sdatabase_tls_ca_file: the records go to %s, over the network: give the path on the "
                            "PBX of the CA certificate that signed the database server's certificate (the connection "
                            "is encrypted and the server checked), or use 127.0.0.1 for the PBX's own database"
                            % (PREFIX, host))
    secret_check(PREFIX + "database_password", s["database_password"])
    return problems


def _section(name, options):
    return "[%s]\n%s\n" % (name, "".join("%s => %s\n" % (key, value) for key, value in options))


# Asterisk started after the database at boot: cdr_adaptive_odbc looks its table up as it loads
# and drops it for good when the database does not answer then.
BOOT_ORDER = "/etc/systemd/system/asterisk.service.d/vpbx-cdr.conf"


def boot_order(s, marker=MARKER):
    """The drop-in that starts Asterisk after the records' database: the PBX's own MariaDB, or the
    network that reaches a remote one."""
    after = ENGINES[s["database_engine"]]["service"] + ".service" if embedded(s) else "network-online.target"
    return ("# %s: rendered by the vpbx.hardened.asterisk_cdr role: Asterisk starts after the call records'\n"
            "# database (cdr_adaptive_odbc looks its table up as it loads).\n[Unit]\nWants=%s\nAfter=%s\n"
            % (marker, after, after))


def files(s):
    """{"files": {name: body}, "secrets": {name: body}} of /etc/asterisk (without the header): cdr.conf
    always; res_odbc.conf (the password: a secret) and cdr_adaptive_odbc.conf with the database."""
    out = {"files": {"cdr.conf": BY_ROLE + CDR_CONF}, "secrets": {}}
    if not enabled(s):
        return out
    out["secrets"]["res_odbc.conf"] = (
        BY_ROLE + "; The connection to the call records' database (ODBC data source %s in %s).\n" % (DSN, ODBC_INI)
        + _section(DSN, [("enabled", "yes"), ("dsn", DSN), ("username", s["database_user"]),
                         ("password", s["database_password"]), ("pre-connect", "yes"), ("max_connections", 5),
                         ("connect_timeout", whole_number(s["database_connect_timeout"])),
                         # A database that was down is tried again after 10 s, not the default 300.
                         ("negative_connection_cache", 10), ("sanitysql", "select 1")]))
    out["files"]["cdr_adaptive_odbc.conf"] = (
        BY_ROLE + "; Every call's record to the table %s (its columns by name).\n" % s["database_table"]
        + _section(DSN, [("connection", DSN), ("table", s["database_table"]), ("alias start", "calldate"),
                         ("usegmtime", "yes")]))
    return out


def odbc_section(s, marker=MARKER):
    """The data source in /etc/odbc.ini (its one section; the file's other sections stay), or ""
    (the section removed) without the database. No password: that is in res_odbc.conf."""
    if not enabled(s):
        return ""
    engine = ENGINES[s["database_engine"]]
    lines = ["[%s]" % DSN, "; %s: the call records' database, rendered by the vpbx.hardened.asterisk_cdr role"
             % marker, "Description = vpbx.hardened call records", "Driver = %s" % engine["driver"],
             "Server = %s" % s["database_host"], "Port = %d" % port(s), "Database = %s" % s["database_name"]]
    if not embedded(s):
        # MariaDB Connector/ODBC: TLS forced, the server's certificate checked against the CA.
        lines += ["FORCETLS = 1", "SSLVERIFY = 1", "SSLCA = %s" % s["database_tls_ca_file"]]
    return "\n".join(lines) + "\n"


def _server(s, listen, clients, tls):
    engine = ENGINES[s["database_engine"]]
    lines = ["# %s: rendered by the vpbx.hardened.asterisk_cdr role: the call records' database." % MARKER,
             "[mysqld]", "bind-address = %s" % listen, "skip-name-resolve = 1"]
    if tls:
        # Nothing crosses the network in clear text: a client without TLS is refused.
        lines += ["require_secure_transport = ON", "ssl_cert = %s" % tls["cert"], "ssl_key = %s" % tls["key"]]
    return {"engine": s["database_engine"], "packages": list(engine["server_packages"]),
            "service": engine["service"], "socket": engine["socket"],
            "config_file": SERVER_CNF, "config": "\n".join(lines) + "\n",
            "database": s["database_name"], "table": s["database_table"], "user": s["database_user"],
            # The PBXs' user may only add records, from each PBX's address.
            "clients": list(clients), "privileges": "%s.%s:INSERT" % (s["database_name"], s["database_table"]),
            "create_table": "CREATE TABLE IF NOT EXISTS %s (%s, INDEX (calldate), INDEX (uniqueid))" % (
                s["database_table"], ", ".join("%s %s" % column for column in COLUMNS))}


def server(s):
    """The embedded database server the role installs and sets up on the PBX (loopback only), or None."""
    if not enabled(s) or not embedded(s):
        return None
    return _server(s, "127.0.0.1", ["127.0.0.1"], None)


SERVER_KEYS = ("address", "clients", "tls_cert_file", "tls_key_file")


def server_settings(v):
    """The database host's variables (asterisk_cdr_server_*) with the records' settings."""
    out = settings(v)
    out.update({"server_" + key: v.get(PREFIX + "server_" + key) for key in SERVER_KEYS})
    return out


def _address(value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def server_errors(s, secret_check):
    """Every problem of a remote database host's settings (asterisk_cdr_server_*), each naming the
    variable and the fix."""
    problems = list(errors(dict(s, database=True, database_host="127.0.0.1"), secret_check))
    address = _address(s["server_address"])
    if address is None or address.is_loopback or address.is_unspecified:
        problems.append("%sserver_address: %r is not one address of this host - give the address the PBXs reach "
                        "(listening on every address, or on loopback, is refused)" % (PREFIX, s["server_address"]))
    clients = s["server_clients"]
    if not isinstance(clients, list) or not clients or any(_address(c) is None for c in clients):
        problems.append("%sserver_clients: %r must list the PBXs' addresses (each an IP address): only they may "
                        "connect" % (PREFIX, clients))
    for key in ("tls_cert_file", "tls_key_file"):
        value = str(s["server_" + key] or "")
        if not value.startswith("/") or any(c in value for c in "\r\n"):
            problems.append("%sserver_%s: %r must be the path on this host of the server's TLS %s (readable by "
                            "mysql); its name or address must be what the PBXs use as asterisk_cdr_database_host"
                            % (PREFIX, key, s["server_" + key], "certificate" if key.endswith("cert_file") else "key"))
    return problems


def remote_server(s):
    """A database host's plan: MariaDB on its one address, TLS required, the PBXs' user for each PBX."""
    return _server(s, s["server_address"], [str(c) for c in s["server_clients"]],
                   {"cert": s["server_tls_cert_file"], "key": s["server_tls_key_file"]})


def packages(s):
    """What the PBX needs installed: the ODBC driver with unixODBC's isql (to try the data source by
    hand), and the embedded server's packages."""
    if not enabled(s):
        return []
    embedded_server = server(s)
    return [ENGINES[s["database_engine"]]["driver_package"], "unixodbc"] + (
        embedded_server["packages"] if embedded_server else [])


def summary(s):
    """Where the records go, in one line."""
    if not enabled(s):
        return "Call records to CSV"
    return "Call records to CSV and to the %s database %s on %s (%s)" % (
        s["database_engine"], s["database_name"], s["database_host"],
        "this PBX, loopback only" if embedded(s) else "TLS, its certificate checked")


def features(s):
    return ["cdr_csv"] + (["cdr_database"] if enabled(s) else [])


def plan(s, header, csv=True):
    """What the asterisk_cdr role applies, as asterisk_apply takes it (`csv`: whether the module set
    loads cdr_csv)."""
    texts = files(s)
    with_header = {kind: {name: header + "\n" + body for name, body in bodies.items()}
                   for kind, bodies in texts.items()}
    return {"files": with_header["files"], "secrets": with_header["secrets"], "features": features(s),
            "packages": packages(s), "server": server(s), "database": enabled(s), "summary": summary(s),
            # cdr_csv writes Master.csv there and does not create it; the records are private.
            "host_dirs": {"%s/cdr-csv" % str(s["log_dir"]).rstrip("/"): {"owner": s["user"], "group": s["group"],
                                                                         "mode": "0750"}},
            "host_files": dict({ODBC_INI: {"section": DSN, "content": odbc_section(s), "mode": "0644"}},
                               **({BOOT_ORDER: {"content": boot_order(s), "mode": "0644"}} if enabled(s) else {})),
            "host_files_absent": [] if enabled(s) else [BOOT_ORDER],
            "retire": [] if enabled(s) else list(DATABASE_FILES),
            "reload": dict(RELOAD),
            "verify": verify(s, csv)}


# The names `cdr show status` lists for the two backends.
BACKENDS = {"csv": "csv", "database": "Adaptive ODBC"}


def verify(s, csv=True):
    """What the running Asterisk must show: the backends registered (and not suspended) or absent,
    and the database connection open."""
    wanted = [BACKENDS["csv"]] if csv else []
    return {"kind": "cdr", "backends": wanted + ([BACKENDS["database"]] if enabled(s) else []),
            "absent": [] if enabled(s) else [BACKENDS["database"]], "connection": DSN if enabled(s) else ""}


def parse_backends(text):
    """{backend: suspended?} from `cdr show status`."""
    backends, inside = {}, False
    for line in text.splitlines():
        if "Registered Backends" in line:
            inside = True
            continue
        name = line.strip()
        if not inside or not name or set(name) == {"-"}:
            if inside and backends and not name:
                break
            continue
        suspended = name.endswith("(suspended)")
        backends[name[:-len("(suspended)")].strip() if suspended else name] = suspended
    return backends


def parse_connections(text, name):
    """The number of open connections `odbc show` reports for connection `name` (None: not listed)."""
    found = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Name:"):
            found = -1 if line.split(":", 1)[1].strip() == name else None
        elif found == -1 and line.startswith("Number of active connections:"):
            match = re.match(r"Number of active connections:\s*(\d+)", line)
            return int(match.group(1)) if match else 0
    return 0 if found == -1 else None


def verify_errors(spec, texts):
    """[] when `cdr show status` (and `odbc show`) show what spec wants, else the messages."""
    backends = parse_backends(texts[0])
    problems = []
    missing = [name for name in spec["backends"] if name not in backends or backends[name]]
    unwanted = [name for name in spec.get("absent") or [] if name in backends]
    if missing or unwanted:
        problems.append("Asterisk's CDR backends are %s; wanted %s%s. See /var/log/asterisk/messages.log for what "
                        "cdr_adaptive_odbc or cdr_csv refused." % (
                            sorted(backends), spec["backends"], " without %s" % unwanted if unwanted else ""))
    if spec.get("connection"):
        open_connections = parse_connections(texts[1], spec["connection"])
        if not open_connections:
            problems.append("res_odbc has %s connection %s to the call records' database: check that the server "
                            "answers at the host and port of %s [%s], that the user and password are right (`isql -v "
                            "%s USER PASSWORD` on the PBX) and /var/log/asterisk/messages.log."
                            % ("no open" if open_connections == 0 else "no", spec["connection"], ODBC_INI,
                               spec["connection"], spec["connection"]))
    return problems
