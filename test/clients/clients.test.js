// Unchanged pgvector clients from the npm registry against ragstore on the throwaway cluster
// (scripts/test.sh clients; connection from PGHOST/PGPORT/PGUSER):
// - LangChain's PGVectorStore in its default mode, which runs CREATE EXTENSION IF NOT EXISTS
//   vector itself: on a database without any extension (ragstore installs under the name vector)
//   and on one where ragstore is installed (the name vector becomes its alias);
// - pgvector (node) with pg: type parsers, parameters, halfvec and sparsevec, an hnsw index.
// Embeddings are a deterministic stand-in (letter counts); every search is checked against a
// brute-force ranking computed here from the float32 values the database stores.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import pgvector from "pgvector/pg";
import { SparseVector } from "pgvector";
import { Embeddings } from "@langchain/core/embeddings";
import { Document } from "@langchain/core/documents";
import { PGVectorStore } from "@langchain/community/vectorstores/pgvector";

const conn = {
  host: process.env.PGHOST,
  port: Number(process.env.PGPORT),
  user: process.env.PGUSER,
};
const DB_FRESH = "ragstore_clients_fresh";
const DB_ALIAS = "ragstore_clients_alias";

// 16 dimensions: counts of the letters of the text by (letter index mod 16), L2-normalised.
class LetterEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  static embed(text) {
    const v = new Array(16).fill(0);
    for (const ch of text.toLowerCase()) {
      const c = ch.charCodeAt(0) - 97;
      if (c >= 0 && c < 26) v[c % 16] += 1;
    }
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  }
  async embedDocuments(texts) {
    return texts.map((t) => LetterEmbeddings.embed(t));
  }
  async embedQuery(text) {
    return LetterEmbeddings.embed(text);
  }
}

const f32 = (v) => v.map((x) => Math.fround(x));
function cosineDistance(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / Math.sqrt(na * nb);
}
const l2 = (a, b) => Math.hypot(...a.map((x, i) => x - b[i]));

// The k nearest documents by brute force; fails if a tie at the cut would make it ambiguous.
function reference(docs, query, k, dist) {
  const q = f32(LetterEmbeddings.embed(query));
  const ranked = docs
    .map((d) => ({ d, dist: dist(f32(LetterEmbeddings.embed(d.pageContent)), q) }))
    .sort((x, y) => x.dist - y.dist);
  if (ranked.length > k) assert.ok(ranked[k].dist - ranked[k - 1].dist > 1e-6, "reference: no tie at the cut");
  return ranked.slice(0, k);
}

const docs = [
  ["apple pie with cinnamon", { kind: "food", n: 1 }],
  ["banana bread recipe", { kind: "food", n: 2 }],
  ["postgres vacuum tuning", { kind: "db", n: 3 }],
  ["hnsw graph index build", { kind: "db", n: 4 }],
  ["quick brown fox jumps", { kind: "misc", n: 5 }],
  ["lazy dog sleeps all day", { kind: "misc", n: 6 }],
  ["write ahead log replay", { kind: "db", n: 7 }],
  ["zucchini soup", { kind: "food", n: 8 }],
].map(([pageContent, metadata]) => new Document({ pageContent, metadata }));
const ids = docs.map((_, i) => `00000000-0000-4000-8000-00000000000${i}`);

async function admin(sql) {
  const c = new pg.Client({ ...conn, database: "postgres" });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}
async function query(database, sql, params) {
  const c = new pg.Client({ ...conn, database });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}
const extensions = async (db) =>
  (await query(db, "SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1"))
    .map((r) => `${r.extname}=${r.extversion}`)
    .join(",");

before(async () => {
  for (const db of [DB_FRESH, DB_ALIAS]) {
    await admin(`DROP DATABASE IF EXISTS ${db}`);
    await admin(`CREATE DATABASE ${db}`);
  }
  await query(DB_ALIAS, "CREATE EXTENSION ragstore");
});
after(async () => {
  for (const db of [DB_FRESH, DB_ALIAS]) await admin(`DROP DATABASE IF EXISTS ${db}`);
});

async function langchainRoundTrip(database, distanceStrategy, dist) {
  const embeddings = new LetterEmbeddings();
  const store = await PGVectorStore.initialize(embeddings, {
    postgresConnectionOptions: { ...conn, database },
    tableName: "lc_documents",
    dimensions: 16,
    distanceStrategy,
  });
  try {
    await store.addDocuments(docs, { ids });

    // the stored rows: text, metadata and the embedding as float4
    const rows = await query(database, "SELECT id, text, metadata, embedding::text AS e FROM lc_documents ORDER BY id");
    assert.equal(rows.length, docs.length);
    rows.forEach((r, i) => {
      assert.equal(r.id, ids[i]);
      assert.equal(r.text, docs[i].pageContent);
      assert.deepEqual(r.metadata, docs[i].metadata);
      assert.deepEqual(f32(JSON.parse(r.e)), f32(LetterEmbeddings.embed(docs[i].pageContent)));
    });

    await store.createHnswIndex({ dimensions: 16 });
    const am = await query(database,
      "SELECT a.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'lc_documents'::regclass AND a.amname = 'hnsw'");
    assert.equal(am.length, 1, "createHnswIndex made an hnsw index");

    for (const q of ["cinnamon apple", "graph index", "a sleeping dog"]) {
      const got = await store.similaritySearchWithScore(q, 3);
      const want = reference(docs, q, 3, dist);
      assert.deepEqual(got.map(([d]) => d.pageContent), want.map((w) => w.d.pageContent), `top 3 for "${q}"`);
      got.forEach(([, score], i) => assert.ok(Math.abs(score - want[i].dist) < 1e-5, `distance for "${q}"`));
    }
    const food = await store.similaritySearch("banana soup", 2, { kind: "food" });
    assert.deepEqual(food.map((d) => d.pageContent),
      reference(docs.filter((d) => d.metadata.kind === "food"), "banana soup", 2, dist).map((w) => w.d.pageContent));

    await store.delete({ ids: [ids[0]] });
    const left = await store.similaritySearch("cinnamon apple", 8);
    assert.equal(left.length, docs.length - 1);
    assert.ok(!left.some((d) => d.pageContent === docs[0].pageContent), "deleted document gone");
  } finally {
    await store.end();
  }
}

test("LangChain PGVectorStore, default mode, database without the extension", async () => {
  await langchainRoundTrip(DB_FRESH, "cosine", cosineDistance);
  assert.equal(await extensions(DB_FRESH), "vector=0.8.0", "PGVectorStore created ragstore under the name vector");
  const owner = await query(DB_FRESH,
    "SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid WHERE d.objid = 'vector'::regtype AND d.deptype = 'e'");
  assert.deepEqual(owner, [{ extname: "vector" }]);
});

test("LangChain PGVectorStore, default mode, database with ragstore installed", async () => {
  await langchainRoundTrip(DB_ALIAS, "euclidean", l2);
  assert.equal(await extensions(DB_ALIAS), "ragstore=0.1.0,vector=0.8.0", "CREATE EXTENSION IF NOT EXISTS vector made the alias");
});

test("pgvector (node) with pg", async () => {
  const client = new pg.Client({ ...conn, database: DB_FRESH });
  await client.connect();
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS vector");
    await pgvector.registerTypes(client);
    await client.query("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3), half halfvec(3), sparse sparsevec(5))");
    const items = [
      [1, [1, 1, 1], [0.5, 1.25, -2], new SparseVector([0, 1.5, 0, 0, -2])],
      [2, [2, 2, 2], [1, 0, 0], new SparseVector({ 0: 3 }, 5)],
      [3, [1, 1, 2], [0, 0, 0.25], new SparseVector([0, 0, -0.5, 0, 0])],
      [4, [-1, 0, 3.5], [-1, -1, 4], new SparseVector([1, 2, 3, 4, 5])],
    ];
    for (const [id, e, h, s] of items) {
      await client.query("INSERT INTO items VALUES ($1, $2, $3, $4)", [id, pgvector.toSql(e), pgvector.toSql(h), pgvector.toSql(s)]);
    }
    await client.query("INSERT INTO items VALUES (5, NULL, NULL, NULL)");

    const { rows } = await client.query("SELECT id, embedding, half, sparse FROM items ORDER BY id");
    rows.slice(0, 4).forEach((r, i) => {
      assert.deepEqual(r.embedding, items[i][1], "vector parsed back");
      assert.deepEqual(r.half, items[i][2], "halfvec parsed back");
      assert.ok(r.sparse instanceof SparseVector);
      assert.deepEqual(r.sparse.toArray(), items[i][3].toArray(), "sparsevec parsed back");
      assert.equal(r.sparse.dimensions, 5);
    });
    assert.deepEqual([rows[4].embedding, rows[4].half, rows[4].sparse], [null, null, null]);

    await client.query("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)");
    await client.query("CREATE INDEX ON items USING hnsw (sparse sparsevec_ip_ops)");
    await client.query("SET enable_seqscan = off");
    const q = [1, 1, 1.9];
    const plan = await client.query("EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 3", [pgvector.toSql(q)]);
    assert.match(plan.rows.map((r) => r["QUERY PLAN"]).join("\n"), /Index Scan using items_embedding_idx/);
    const near = await client.query("SELECT id, embedding <-> $1 AS d FROM items ORDER BY embedding <-> $1 LIMIT 3", [pgvector.toSql(q)]);
    const want = items.map(([id, e]) => ({ id, d: l2(e, q) })).sort((a, b) => a.d - b.d).slice(0, 3);
    assert.deepEqual(near.rows.map((r) => r.id), want.map((w) => w.id), "nearest by l2 through hnsw");
    near.rows.forEach((r, i) => assert.ok(Math.abs(r.d - want[i].d) < 1e-6));
    const sp = await client.query("SELECT id FROM items ORDER BY sparse <#> $1 LIMIT 2", [pgvector.toSql(new SparseVector([1, 0, 0, 0, 1]))]);
    assert.deepEqual(sp.rows.map((r) => r.id), [4, 2], "largest inner product first through hnsw on sparsevec");
  } finally {
    await client.end();
  }
});
