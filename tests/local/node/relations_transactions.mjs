// The official node-appwrite SDK against the local server: a two-way relationship, rows linked
// by id and read back through a select, onDelete restrict, and transactions (commit, rollback,
// a conflicting commit that writes nothing), nested related rows and a filter through a
// relationship. Prints one JSON line of findings; exits 1 on error.
import { createRequire } from "node:module";

const require = createRequire(process.env.NODE_SDK_PATH);
const { Client, TablesDB, Query, RelationshipType, RelationMutate } = require("node-appwrite");

const client = new Client()
  .setEndpoint(process.env.ENDPOINT)
  .setProject(process.env.PROJECT)
  .setKey(process.env.KEY);
const db = new TablesDB(client);
const databaseId = process.env.DATABASE;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitAvailable(tableId, key) {
  for (let i = 0; i < 500; i++) {
    const column = await db.getColumn({ databaseId, tableId, key });
    if (column.status === "available") return column;
    await sleep(10);
  }
  throw new Error(`column ${tableId}.${key} never became available`);
}

async function errorType(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error.type;
  }
}

const name = [{ key: "name", type: "varchar", size: 40, required: false }];
await db.create({ databaseId, name: databaseId });
await db.createTable({ databaseId, tableId: "authors", name: "Authors", columns: name });
await db.createTable({ databaseId, tableId: "books", name: "Books", columns: name });
const created = await db.createRelationshipColumn({
  databaseId,
  tableId: "authors",
  relatedTableId: "books",
  type: RelationshipType.OneToMany,
  twoWay: true,
  key: "books",
  twoWayKey: "author",
  onDelete: RelationMutate.Restrict,
});
await waitAvailable("authors", "books");
const child = await waitAvailable("books", "author");

await db.createRow({ databaseId, tableId: "books", rowId: "b1", data: { name: "One" } });
await db.createRow({ databaseId, tableId: "authors", rowId: "a", data: { name: "Ann", books: ["b1"] } });
const plain = await db.getRow({ databaseId, tableId: "authors", rowId: "a" });
const full = await db.getRow({
  databaseId, tableId: "authors", rowId: "a", queries: [Query.select(["*", "books.*"])],
});
const restricted = await errorType(db.deleteRow({ databaseId, tableId: "authors", rowId: "a" }));

const tx = await db.createTransaction({ ttl: 60 });
await db.createRow({ databaseId, tableId: "books", rowId: "b2", data: { name: "Two" }, transactionId: tx.$id });
await db.updateRow({ databaseId, tableId: "books", rowId: "b1", data: { name: "Uno" }, transactionId: tx.$id });
const before = (await db.listRows({ databaseId, tableId: "books" })).total;
const inside = (await db.listRows({ databaseId, tableId: "books", transactionId: tx.$id })).total;
const committed = await db.updateTransaction({ transactionId: tx.$id, commit: true });
const after = await db.listRows({ databaseId, tableId: "books", queries: [Query.orderAsc("$id")] });

const rolled = await db.createTransaction({});
await db.createRow({ databaseId, tableId: "books", rowId: "b3", data: { name: "Three" }, transactionId: rolled.$id });
const rolledBack = await db.updateTransaction({ transactionId: rolled.$id, rollback: true });

const clash = await db.createTransaction({});
await db.updateRow({ databaseId, tableId: "books", rowId: "b2", data: { name: "mine" }, transactionId: clash.$id });
await sleep(5);
await db.updateRow({ databaseId, tableId: "books", rowId: "b2", data: { name: "theirs" } });
const conflict = await errorType(db.updateTransaction({ transactionId: clash.$id, commit: true }));
const b2 = await db.getRow({ databaseId, tableId: "books", rowId: "b2" });

// Nested related rows: created with their parent, read back through the other side's select,
// and found by a filter through the relationship.
await db.createRow({
  databaseId, tableId: "authors", rowId: "n",
  data: { name: "Nest", books: [{ $id: "b9", name: "Nine" }] },
});
const nine = await db.getRow({
  databaseId, tableId: "books", rowId: "b9", queries: [Query.select(["*", "author.*"])],
});
const byAuthor = await db.listRows({
  databaseId, tableId: "books", queries: [Query.equal("author.name", ["Nest"])],
});

console.log(JSON.stringify({
  side: created.side,
  relatedTable: created.relatedTable,
  childSide: child.side,
  childRelated: child.relatedTable,
  plainHasBooks: "books" in plain,
  fullBooks: full.books.map((b) => b.$id),
  restricted,
  txStatus: tx.status,
  before,
  inside,
  committed: committed.status,
  after: after.rows.map((r) => [r.$id, r.name]),
  rolledBack: rolledBack.status,
  conflict,
  b2: b2.name,
  nested: [nine.name, nine.author.$id, nine.author.name],
  byAuthor: byAuthor.rows.map((r) => r.$id),
}));
