import type { Logger } from '../../lib/logger';
import type { Monolith } from './app';

/** Small deterministic PRNG (mulberry32): the same seed gives the same shop on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Margaret', 'Donald', 'Frances', 'Ken', 'Radia'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Dijkstra', 'Hamilton', 'Knuth', 'Allen', 'Thompson', 'Perlman'];
const SKUS = ['BOOK-001', 'BOOK-002', 'MUG-RED', 'MUG-BLUE', 'TEE-S', 'TEE-M', 'TEE-L', 'STICKER', 'POSTER', 'LAPTOP'];

export const SEED_USERS = 50;
export const SEED_ORDERS = 100;

/**
 * Seeds demo data through the same services the HTTP API uses, so payments and notifications are consistent.
 * Runs only on an empty database. Returns whether it seeded.
 */
export async function seedDemoData(monolith: Monolith, logger: Logger, seed = 42): Promise<boolean> {
  const { users, orders } = monolith.services;
  if ((await users.list({ limit: 1 })).items.length > 0) return false;
  const rand = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const ids: number[] = [];
  for (let i = 0; i < SEED_USERS; i++) {
    const first = FIRST[i % FIRST.length];
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length];
    const user = await users.create({ email: `${first}.${last}.${i}@example.com`.toLowerCase(), name: `${first} ${last}` });
    ids.push(user.id);
  }
  for (let i = 0; i < SEED_ORDERS; i++) {
    const count = 1 + Math.floor(rand() * 3);
    const items = Array.from({ length: count }, () => ({
      sku: pick(SKUS),
      quantity: 1 + Math.floor(rand() * 3),
      // Roughly one order in ten lands above the decline limit (the laptop).
      unitPriceCents: 500 + Math.floor(rand() * 5000) + (rand() < 0.06 ? 150_000 : 0),
    }));
    await orders.place({ userId: pick(ids), items });
  }
  logger.info({ users: SEED_USERS, orders: SEED_ORDERS }, 'demo data seeded');
  return true;
}
