#!/bin/sh
# ragstore under two extension names: `ragstore` and `vector` (pgvector's name, for applications
# that run `CREATE EXTENSION IF NOT EXISTS vector` themselves). Both names install the same
# objects from the same src/sql/*.sql into the same shared library ($libdir/ragstore); this script
# writes the parts that differ and installs the `vector` files only where no real pgvector is.
# Called by the Makefile; the TAP test 005 calls it too.
#
#   vector_name.sh ragstore-guard                  SQL put at the top of ragstore--<v>.sql
#   vector_name.sh vector-install FILE...          vector--<w>.sql from src/sql/*.sql (in order)
#   vector_name.sh vector-upgrade FILE             vector--<wa>--<wb>.sql from ragstore--<a>--<b>.sql
#   vector_name.sh vector-version MAP RAGSTORE_VERSION
#                                                  the version `vector` reports for that ragstore version
#   vector_name.sh upgrade-rules MAP FILE...       "ragstore-upgrade-file vector-upgrade-file" lines
#   vector_name.sh install EXTDIR LIBDIR FILE...   copy the vector files into EXTDIR unless a real
#                                                  pgvector is installed there (EXTDIR/vector.control
#                                                  not ours, or LIBDIR/vector.so)
#
# MAP (src/sql/upgrade/vector_versions) has one line per ragstore version: "<ragstore> <vector>".
# The `vector` version is the pgvector version whose SQL interface that ragstore version matches,
# so that version checks in applications ("halfvec needs vector >= 0.7.0") pass.
set -eu

# Our vector.control names our library; a real pgvector's names $libdir/vector.
is_ours() { grep -q "^module_pathname *= *'\$libdir/ragstore'" "$1" 2>/dev/null; }

# The body of every generated script runs as one dynamic statement inside a DO block; its
# dollar-quote tag must not occur in the text it quotes.
TAG='$ragstore_script$'
check_tag() {
  for f in "$@"; do
    if grep -qF "$TAG" "$f"; then echo "vector_name.sh: $f contains $TAG" >&2; exit 1; fi
  done
}

# vector_version MAP RAGSTORE_VERSION
vector_version() {
  w=$(awk -v v="$2" '$1 == v { print $2 }' "$1")
  [ -n "$w" ] || { echo "vector_name.sh: ragstore version $2 has no line in $1" >&2; exit 1; }
  echo "$w"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  ragstore-guard)
    cat <<'EOF'
-- Refuse to install next to an extension named `vector`: either ragstore itself under that name
-- (everything is there already) or pgvector (same type and operator names). Nothing is created.
DO $ragstore_guard$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'vector') THEN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_depend d
                 ON d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = e.oid
                AND d.classid = 'pg_catalog.pg_namespace'::regclass AND d.deptype = 'e'
               JOIN pg_catalog.pg_namespace n ON n.oid = d.objid
               WHERE e.extname = 'vector' AND n.nspname = 'ragstore') THEN
      RAISE EXCEPTION 'ragstore is already installed in this database under the name "vector"'
        USING ERRCODE = 'duplicate_object',
              DETAIL = 'CREATE EXTENSION vector installed all of ragstore: the types, the hnsw and ivfflat index methods and the schema ragstore.',
              HINT = 'Nothing more to install: use it as it is (ALTER EXTENSION vector UPDATE upgrades it).';
    END IF;
    RAISE EXCEPTION 'extension "vector" (pgvector) is installed in this database'
      USING ERRCODE = 'duplicate_object',
            DETAIL = 'ragstore defines the same types, operators and index methods as pgvector and cannot be installed beside it.',
            HINT = 'Move the data with pg_dump and pg_restore into a database on a server where ragstore is installed and pgvector is not (README, "Compatibility with pgvector").';
  END IF;
END
$ragstore_guard$;
EOF
    ;;

  vector-install)
    check_tag "$@"
    cat <<'EOF'
-- ragstore under pgvector's extension name: generated from src/sql/*.sql by scripts/vector_name.sh; do not edit.
\echo Use "CREATE EXTENSION vector" to load this file. \quit

-- Where ragstore is installed under its own name, `vector` becomes an alias of it: no object is
-- added but one function in schema ragstore that takes ragstore's vector type, so that
-- `CREATE EXTENSION IF NOT EXISTS vector` succeeds, pg_extension reports the pgvector version,
-- and DROP EXTENSION ragstore CASCADE drops the alias with it. Elsewhere: all of ragstore.
DO $ragstore_vector_name$
DECLARE
  vtype text;
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'ragstore') THEN
    SELECT t.oid::pg_catalog.regtype::text INTO vtype
      FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid
                                 AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
      JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'ragstore'
     WHERE t.typname = 'vector';
    IF vtype IS NULL THEN
      RAISE EXCEPTION 'extension "ragstore" in this database has no type vector'
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    EXECUTE pg_catalog.format(
      'CREATE FUNCTION ragstore.vector_name_alias(%s) RETURNS text LANGUAGE sql IMMUTABLE'
      ' AS $f$SELECT %L::text$f$', vtype, 'ragstore');
    EXECUTE pg_catalog.format('COMMENT ON FUNCTION ragstore.vector_name_alias(%s) IS %L', vtype,
      'the one member of extension "vector" when that name is an alias of ragstore in this database');
    RETURN;
  END IF;
  EXECUTE $ragstore_script$
EOF
    for f in "$@"; do printf '\n-- ---- %s\n' "$f"; cat "$f"; done
    cat <<'EOF'
$ragstore_script$;
END
$ragstore_vector_name$;
EOF
    ;;

  vector-upgrade)
    f=$1
    check_tag "$f"
    cat <<EOF
-- ragstore under pgvector's extension name: generated from $f by scripts/vector_name.sh; do not edit.
\\echo Use "ALTER EXTENSION vector UPDATE" to load this file. \\quit

EOF
    cat <<'EOF'
-- Where `vector` is an alias of ragstore (both names in the database), ALTER EXTENSION ragstore
-- UPDATE upgrades the objects and this step only moves the alias's version.
DO $ragstore_vector_name$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'ragstore') THEN
    RETURN;
  END IF;
  EXECUTE $ragstore_script$
EOF
    sed '/^\\echo /d' "$f"
    cat <<'EOF'
$ragstore_script$;
END
$ragstore_vector_name$;
EOF
    ;;

  vector-version)
    vector_version "$1" "$2"
    ;;

  upgrade-rules)
    map=$1; shift
    for f in "$@"; do
      b=$(basename "$f" .sql); b=${b#ragstore--}
      a=${b%%--*} c=${b#*--}
      wa=$(vector_version "$map" "$a") wc=$(vector_version "$map" "$c")
      echo "$f vector--$wa--$wc.sql"
    done
    ;;

  install)
    extdir=$1 libdir=$2; shift 2
    if [ -e "$extdir/vector.control" ] && ! is_ours "$extdir/vector.control"; then
      echo "pgvector is installed ($extdir/vector.control): ragstore installed under its own name only; CREATE EXTENSION vector stays pgvector's" >&2
      exit 0
    fi
    if [ -e "$libdir/vector.so" ]; then
      echo "pgvector's library is installed ($libdir/vector.so): ragstore installed under its own name only" >&2
      exit 0
    fi
    # A file of ours may be a symlink into another tree (a private install): replace, never write through.
    for f in "$@"; do rm -f "$extdir/$(basename "$f")"; cp "$f" "$extdir/"; chmod 644 "$extdir/$(basename "$f")"; done
    ;;

  uninstall)
    extdir=$1
    if is_ours "$extdir/vector.control"; then
      rm -f "$extdir/vector.control" "$extdir"/vector--*.sql
    fi
    ;;

  *)
    echo "usage: vector_name.sh ragstore-guard|vector-install|vector-upgrade|vector-version|upgrade-rules|install|uninstall ..." >&2
    exit 2
    ;;
esac
