/**
 * What the load generator asks for: a shop-like mix, mostly reads of a user's own data, with writes that keep the
 * CDC pipelines and the shadow comparison busy. Every request acts as one of the run's users (`x-user-id`), so a
 * canary's stickiness is exercised per user the way real clients exercise it.
 */
export type OperationName = 'getUser' | 'listUsers' | 'userOrders' | 'createOrder' | 'getOrder' | 'patchUser' | 'createUser';

export interface MixEntry {
  op: OperationName;
  /** The route as the summary shows it. */
  route: string;
  weight: number;
  write: boolean;
}

export const DEFAULT_MIX: readonly MixEntry[] = [
  { op: 'getUser', route: 'GET /api/users/:id', weight: 55, write: false },
  { op: 'listUsers', route: 'GET /api/users?limit=5', weight: 10, write: false },
  { op: 'userOrders', route: 'GET /api/users/:id/orders', weight: 10, write: false },
  { op: 'createOrder', route: 'POST /api/orders', weight: 10, write: true },
  { op: 'getOrder', route: 'GET /api/orders/:id', weight: 5, write: false },
  { op: 'patchUser', route: 'PATCH /api/users/:id', weight: 5, write: true },
  { op: 'createUser', route: 'POST /api/users', weight: 5, write: true },
];

export interface PlannedRequest {
  op: OperationName;
  route: string;
  write: boolean;
  method: string;
  path: string;
  body?: unknown;
  /** The acting user, sent as `x-user-id`. */
  userId: number;
}

/** The payment of an order above this many cents is declined by the shop. */
export const DECLINE_ABOVE_CENTS = 100_000;
const DECLINED_SHARE = 0.1;
/** Orders remembered for `GET /api/orders/:id`: enough variety, bounded memory on long runs. */
const MAX_REMEMBERED_ORDERS = 1_000;

export class Workload {
  private readonly users: number[] = [];
  private readonly orders: number[] = [];
  private userSeq = 0;
  private orderSeq = 0;
  private patchSeq = 0;
  private readonly reads: MixEntry[];

  constructor(
    /** Makes this run's emails unique, so runs never collide on `email_taken`. */
    readonly runId: string,
    private readonly random: () => number = Math.random,
    private readonly mix: readonly MixEntry[] = DEFAULT_MIX,
  ) {
    this.reads = mix.filter((m) => !m.write);
  }

  get userCount(): number {
    return this.users.length;
  }

  /** The body of a new user with a run-unique email. */
  newUser(): { email: string; name: string } {
    this.userSeq += 1;
    return { email: `load-${this.runId}-${this.userSeq}@example.test`, name: `Load User ${this.userSeq}` };
  }

  addUser(id: number): void {
    this.users.push(id);
  }

  /** The next request; with writes paused, a read takes the write's place so the offered rate stays the same. */
  next(writesAllowed: boolean): PlannedRequest {
    const entry = this.pick(writesAllowed ? this.mix : this.reads);
    if (entry.op === 'getOrder' && this.orders.length === 0) return this.build(this.mix.find((m) => m.op === 'getUser') ?? entry);
    return this.build(entry);
  }

  /** Learns ids from successful creates, so later reads and orders can use them. */
  observe(request: PlannedRequest, status: number | null, body: unknown): void {
    if (status !== 201) return;
    const id = (body as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number') return;
    if (request.op === 'createUser') this.users.push(id);
    if (request.op === 'createOrder') {
      this.orders.push(id);
      if (this.orders.length > MAX_REMEMBERED_ORDERS) this.orders.shift();
    }
  }

  private pick(entries: readonly MixEntry[]): MixEntry {
    const total = entries.reduce((sum, e) => sum + e.weight, 0);
    let r = this.random() * total;
    for (const e of entries) {
      r -= e.weight;
      if (r < 0) return e;
    }
    return entries[entries.length - 1];
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private anyOf<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private build(entry: MixEntry): PlannedRequest {
    const userId = this.anyOf(this.users);
    const base = { op: entry.op, route: entry.route, write: entry.write, userId };
    switch (entry.op) {
      case 'getUser':
        return { ...base, method: 'GET', path: `/api/users/${userId}` };
      case 'listUsers':
        return { ...base, method: 'GET', path: '/api/users?limit=5' };
      case 'userOrders':
        return { ...base, method: 'GET', path: `/api/users/${userId}/orders` };
      case 'getOrder':
        return { ...base, method: 'GET', path: `/api/orders/${this.anyOf(this.orders)}` };
      case 'createOrder':
        return { ...base, method: 'POST', path: '/api/orders', body: { userId, items: this.orderItems() } };
      case 'patchUser':
        this.patchSeq += 1;
        return { ...base, method: 'PATCH', path: `/api/users/${userId}`, body: { name: `Load User ${userId} (edit ${this.patchSeq})` } };
      case 'createUser':
        return { ...base, method: 'POST', path: '/api/users', body: this.newUser() };
    }
  }

  /** 1–3 items; about one order in ten is priced above the decline threshold so both payment outcomes occur. */
  private orderItems(): { sku: string; quantity: number; unitPriceCents: number }[] {
    this.orderSeq += 1;
    const count = this.int(1, 3);
    // At most 3 items × 3 × 9999 cents = 89 991: an ordinary order always stays below the threshold.
    const items = Array.from({ length: count }, (_, i) => ({ sku: `LOAD-${this.orderSeq}-${i + 1}`, quantity: this.int(1, 3), unitPriceCents: this.int(199, 9_999) }));
    if (this.random() < DECLINED_SHARE) items[0] = { ...items[0], quantity: 1, unitPriceCents: this.int(DECLINE_ABOVE_CENTS + 1, 3 * DECLINE_ABOVE_CENTS) };
    return items;
  }
}
