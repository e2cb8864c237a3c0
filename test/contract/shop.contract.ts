import { eventually } from '../harness/eventually';
import { client, uniqueEmail, type ContextName, type ShopTarget } from './target';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function expectError(res: { status: number; body: unknown }, status: number, code: string) {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } })?.error?.code }).toEqual({ status, code });
  expect(typeof (res.body as { error: { message: unknown } }).error.message).toBe('string');
}

/**
 * The shop's HTTP contract, exact. Runs against the monolith and against every extracted service for the routes
 * it owns: a test that passes on the monolith and fails on a service is a bug in the service.
 */
export function describeShopContract(getTarget: () => ShopTarget, contexts: ContextName[] = ['users', 'orders', 'payments', 'notifications']) {
  const users = () => client(getTarget(), 'users');
  const orders = () => client(getTarget(), 'orders');
  const payments = () => client(getTarget(), 'payments');
  const notifications = () => client(getTarget(), 'notifications');

  async function newUser(name = 'Test User') {
    const res = await users().post('/api/users').send({ email: uniqueEmail(), name });
    expect(res.status).toBe(201);
    return res.body as { id: number; email: string; name: string };
  }

  async function newOrder(userId: number, items = [{ sku: 'BOOK-001', quantity: 2, unitPriceCents: 1250 }]) {
    const res = await orders().post('/api/orders').send({ userId, items });
    expect(res.status).toBe(201);
    return res.body as { id: number; status: string; totalCents: number; userId: number };
  }

  const has = (c: ContextName) => contexts.includes(c);

  describe('common behaviour', () => {
    const anyContext = () => client(getTarget(), contexts[0]);

    it('GET /health answers ok', async () => {
      const res = await anyContext().get('/health');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('echoes a valid x-request-id and generates one when absent', async () => {
      const echoed = await anyContext().get('/health').set('x-request-id', 'abc-123');
      expect(echoed.headers['x-request-id']).toBe('abc-123');
      const generated = await anyContext().get('/health');
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('unknown routes are 404 JSON', async () => {
      const res = await anyContext().get('/api/nope');
      expectError(res, 404, 'not_found');
    });

    it('OPTIONS is 405 JSON (no CORS), on known and unknown paths alike', async () => {
      for (const path of ['/health', '/api/nope', '/api/users', '/api/orders', '/api/payments', '/api/notifications']) {
        expectError(await anyContext().options(path), 405, 'method_not_allowed');
      }
    });

    it('a body that does not inflate as its Content-Encoding says is 400 invalid_content_encoding', async () => {
      const path = has('users') ? '/api/users' : has('orders') ? '/api/orders' : '/api/nope';
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const res = await anyContext().post(path).set('content-type', 'application/json').set('content-encoding', encoding).send('{"not":"compressed"}');
        expectError(res, 400, 'invalid_content_encoding');
      }
    });
  });

  if (has('users')) describe('users', () => {
    it('POST /api/users creates a user', async () => {
      const email = uniqueEmail('Create');
      const res = await users().post('/api/users').send({ email, name: 'Ada Lovelace' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id: expect.any(Number), email, name: 'Ada Lovelace', createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) });
      expect(Number.isInteger(res.body.id)).toBe(true);
    });

    it.each([
      ['a bad email', { email: 'not-an-email', name: 'X' }],
      ['an empty name', { email: 'ok@example.com', name: '   ' }],
      ['a missing name', { email: 'ok@example.com' }],
      ['a number as email', { email: 42, name: 'X' }],
      ['no body at all', undefined],
      ['an array body', [1, 2]],
    ])('POST /api/users rejects %s with 400 validation_failed', async (_what, body) => {
      const req = users().post('/api/users');
      const res = body === undefined ? await req : await req.send(body as object);
      expectError(res, 400, 'validation_failed');
    });

    it('POST /api/users rejects a taken email case-insensitively with 409 email_taken', async () => {
      const email = uniqueEmail('Taken');
      expect((await users().post('/api/users').send({ email, name: 'First' })).status).toBe(201);
      expectError(await users().post('/api/users').send({ email: email.toUpperCase(), name: 'Second' }), 409, 'email_taken');
    });

    it('an email written with a composed or a decomposed accent (NFC, NFD) is one account, stored and found in NFC', async () => {
      const local = uniqueEmail('jose').split('@');
      const nfc = `${local[0]}-jos\u00e9@${local[1]}`;
      const nfd = `${local[0]}-jose\u0301@${local[1]}`;
      const created = await users().post('/api/users').send({ email: nfd, name: 'Jos\u00e9' });
      expect(created.status).toBe(201);
      expect(created.body.email).toBe(nfc);
      expectError(await users().post('/api/users').send({ email: nfc, name: 'Second' }), 409, 'email_taken');
      const found = await users().get('/api/users').query({ email: nfd.toUpperCase() });
      expect(found.body.items.map((u: { id: number }) => u.id)).toEqual([created.body.id]);
    });

    it('concurrent creates of one email in different cases: exactly one wins', async () => {
      const email = uniqueEmail('race');
      const variants = [email, email.toUpperCase(), email.replace(/^r/, 'R'), email, email.toUpperCase(), email];
      const results = await Promise.all(variants.map((e) => users().post('/api/users').send({ email: e, name: 'Racer' })));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of results.filter((r) => r.status !== 201)) expectError(r, 409, 'email_taken');
    });

    it('GET /api/users/:id returns the user, 404 when missing or not numeric', async () => {
      const user = await newUser('Grace Hopper');
      const res = await users().get(`/api/users/${user.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, email: user.email, name: 'Grace Hopper' });
      expectError(await users().get('/api/users/999999999'), 404, 'not_found');
      expectError(await users().get('/api/users/abc'), 404, 'not_found');
      expectError(await users().get('/api/users/1.5'), 404, 'not_found');
      expectError(await users().get('/api/users/99999999999999'), 404, 'not_found');
    });

    it('GET /api/users pages in id order with nextCursor, and filters by email case-insensitively', async () => {
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await newUser(`Pager ${i}`));
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await users().get('/api/users').query(cursor ? { limit: 2, cursor } : { limit: 2 });
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((u: { id: number }) => u.id));
        cursor = res.body.nextCursor;
        expect(cursor === null || typeof cursor === 'string').toBe(true);
        pages += 1;
      } while (cursor && pages < 1000);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(new Set(seen).size).toBe(seen.length);
      for (const u of created) expect(seen).toContain(u.id);

      const byEmail = await users().get('/api/users').query({ email: created[2].email.toUpperCase() });
      expect(byEmail.status).toBe(200);
      expect(byEmail.body).toEqual({ items: [expect.objectContaining({ id: created[2].id })], nextCursor: null });

      const first = await users().get('/api/users');
      expect(first.body.items.length).toBeLessThanOrEqual(20);
    });

    it.each([['0'], ['101'], ['abc'], ['2.5']])('GET /api/users?limit=%s is 400 validation_failed', async (limit) => {
      expectError(await users().get('/api/users').query({ limit }), 400, 'validation_failed');
    });

    it('GET /api/users with a garbage cursor is 400 validation_failed', async () => {
      expectError(await users().get('/api/users').query({ cursor: 'not a cursor' }), 400, 'validation_failed');
    });

    it('PATCH /api/users/:id updates name and email with the same validation and 409', async () => {
      const user = await newUser('Old Name');
      const other = await newUser('Other');
      const renamed = await users().patch(`/api/users/${user.id}`).send({ name: 'New Name' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id: user.id, name: 'New Name', email: user.email });
      const newEmail = uniqueEmail('moved');
      const moved = await users().patch(`/api/users/${user.id}`).send({ email: newEmail });
      expect(moved.status).toBe(200);
      expect(moved.body.email).toBe(newEmail);
      expect(new Date(moved.body.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(moved.body.createdAt).getTime());
      expectError(await users().patch(`/api/users/${user.id}`).send({ email: other.email.toUpperCase() }), 409, 'email_taken');
      expectError(await users().patch(`/api/users/${user.id}`).send({ name: '' }), 400, 'validation_failed');
      expectError(await users().patch(`/api/users/${user.id}`).send({ email: 'nope' }), 400, 'validation_failed');
      expectError(await users().patch('/api/users/999999999').send({ name: 'Ghost' }), 404, 'not_found');
    });

    it('DELETE /api/users/:id is 204, then 404', async () => {
      const user = await newUser();
      const res = await users().delete(`/api/users/${user.id}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectError(await users().get(`/api/users/${user.id}`), 404, 'not_found');
      expectError(await users().delete(`/api/users/${user.id}`), 404, 'not_found');
    });

    if (has('orders')) it('DELETE /api/users/:id is 409 user_has_orders when the user has orders', async () => {
      const user = await newUser();
      await newOrder(user.id);
      await eventually(async () => expectError(await users().delete(`/api/users/${user.id}`), 409, 'user_has_orders'), 10_000);
      expect((await users().get(`/api/users/${user.id}`)).status).toBe(200);
    });

    it('malformed JSON is 400 invalid_json', async () => {
      const res = await users().post('/api/users').set('content-type', 'application/json').send('{"email": ');
      expectError(res, 400, 'invalid_json');
    });

    it('a string the database cannot store as sent (U+0000, a lone surrogate) is 400 invalid_json, and nothing is stored', async () => {
      for (const name of ['A\\u0000B', '\\ud800', 'x\\udc00']) {
        const email = uniqueEmail('Unstorable');
        const res = await users().post('/api/users').set('content-type', 'application/json').send(`{"email":"${email}","name":"${name}"}`);
        expectError(res, 400, 'invalid_json');
        expect((await users().get('/api/users').query({ email })).body).toEqual({ items: [], nextCursor: null });
      }
      // A well-formed pair is ordinary text.
      const ok = await users().post('/api/users').set('content-type', 'application/json').send(`{"email":"${uniqueEmail('Emoji')}","name":"Ada \\ud83d\\ude00"}`);
      expect(ok.status).toBe(201);
      expect(ok.body.name).toBe('Ada \u{1F600}');
    });

    it('a body that is not UTF-8 is 400 invalid_encoding', async () => {
      const body = Buffer.concat([Buffer.from(`{"email":"${uniqueEmail('Latin')}","name":"Ren`), Buffer.from([0xe9]), Buffer.from('e"}')]);
      // Raw bytes: supertest would serialise a Buffer as JSON.
      const res = await fetch(`${getTarget().baseUrls.users}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expectError({ status: res.status, body: await res.json() }, 400, 'invalid_encoding');
    });

    it('a body over 1 MB is 413 payload_too_large', async () => {
      const res = await users()
        .post('/api/users')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ email: 'big@example.com', name: 'x'.repeat(1024 * 1024 + 10) }));
      expectError(res, 413, 'payload_too_large');
    });
  });

  if (has('orders')) describe('orders', () => {
    it('POST /api/orders places a paid order with the total of its items', async () => {
      const user = await newUser();
      const items = [
        { sku: 'BOOK-001', quantity: 2, unitPriceCents: 1250 },
        { sku: 'MUG-RED', quantity: 1, unitPriceCents: 899 },
      ];
      const res = await orders().post('/api/orders').send({ userId: user.id, items });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        userId: user.id,
        status: 'paid',
        totalCents: 3399,
        currency: 'USD',
        items,
        createdAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
      });
    });

    it('an order above 100000 cents is payment_declined', async () => {
      const user = await newUser();
      const order = await newOrder(user.id, [{ sku: 'LAPTOP', quantity: 1, unitPriceCents: 100_001 }]);
      expect(order.status).toBe('payment_declined');
      const exactly = await newOrder(user.id, [{ sku: 'LAPTOP', quantity: 2, unitPriceCents: 50_000 }]);
      expect(exactly.status).toBe('paid');
    });

    it('an unknown user is 422 unknown_user', async () => {
      expectError(await orders().post('/api/orders').send({ userId: 999999999, items: [{ sku: 'A', quantity: 1, unitPriceCents: 1 }] }), 422, 'unknown_user');
    });

    const item = { sku: 'A', quantity: 1, unitPriceCents: 100 };
    it.each([
      ['no items', { items: [] }],
      ['51 items', { items: Array.from({ length: 51 }, () => item) }],
      ['quantity 0', { items: [{ ...item, quantity: 0 }] }],
      ['a fractional quantity', { items: [{ ...item, quantity: 1.5 }] }],
      ['a negative price', { items: [{ ...item, unitPriceCents: -1 }] }],
      ['an empty sku', { items: [{ ...item, sku: '' }] }],
      ['a string userId', { userId: 'one', items: [item] }],
      ['a missing items list', { items: undefined }],
    ])('POST /api/orders rejects %s with 400 validation_failed', async (_what, patch) => {
      const user = await newUser();
      const res = await orders().post('/api/orders').send({ userId: user.id, ...patch });
      expectError(res, 400, 'validation_failed');
    });

    it('accepts 50 items and price 0', async () => {
      const user = await newUser();
      const order = await newOrder(user.id, Array.from({ length: 50 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1, unitPriceCents: i === 0 ? 0 : 10 })));
      expect(order.totalCents).toBe(490);
    });

    it('GET /api/orders/:id returns the order with its items in order; 404 otherwise', async () => {
      const user = await newUser();
      const items = [
        { sku: 'Z-LAST', quantity: 1, unitPriceCents: 1 },
        { sku: 'A-FIRST', quantity: 3, unitPriceCents: 2 },
      ];
      const placed = await newOrder(user.id, items);
      const res = await orders().get(`/api/orders/${placed.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...placed, items });
      expectError(await orders().get('/api/orders/999999999'), 404, 'not_found');
      expectError(await orders().get('/api/orders/x1'), 404, 'not_found');
    });

    it('GET /api/users/:id/orders lists the user\'s orders newest first', async () => {
      const user = await newUser();
      const a = await newOrder(user.id);
      const b = await newOrder(user.id);
      const c = await newOrder(user.id);
      const res = await orders().get(`/api/users/${user.id}/orders`);
      expect(res.status).toBe(200);
      expect(res.body.items.map((o: { id: number }) => o.id)).toEqual([c.id, b.id, a.id]);
      expect(res.body.items[0]).toMatchObject({ userId: user.id, status: 'paid', items: [{ sku: 'BOOK-001', quantity: 2, unitPriceCents: 1250 }] });
      const none = await orders().get('/api/users/999999999/orders');
      expect(none.status).toBe(200);
      expect(none.body).toEqual({ items: [] });
    });

    it('POST /api/orders/:id/cancel cancels a paid order once, refunds its payment; 409 not_cancellable otherwise', async () => {
      const user = await newUser();
      const order = await newOrder(user.id);
      const res = await orders().post(`/api/orders/${order.id}/cancel`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: order.id, status: 'cancelled', totalCents: order.totalCents });
      expectError(await orders().post(`/api/orders/${order.id}/cancel`), 409, 'not_cancellable');
      const declined = await newOrder(user.id, [{ sku: 'LAPTOP', quantity: 1, unitPriceCents: 200_000 }]);
      expectError(await orders().post(`/api/orders/${declined.id}/cancel`), 409, 'not_cancellable');
      expectError(await orders().post('/api/orders/999999999/cancel'), 404, 'not_found');
      if (has('payments')) {
        await eventually(async () => {
          const p = await payments().get('/api/payments').query({ orderId: order.id });
          expect(p.body.items).toEqual([expect.objectContaining({ orderId: order.id, status: 'refunded' })]);
        });
      }
    });
  });

  if (has('payments')) describe('payments', () => {
    it('GET /api/payments?orderId= and /api/payments/:id show the captured or declined payment', async () => {
      const user = await newUser();
      const paid = await newOrder(user.id, [{ sku: 'A', quantity: 4, unitPriceCents: 250 }]);
      const declined = await newOrder(user.id, [{ sku: 'B', quantity: 1, unitPriceCents: 150_000 }]);
      const list = await eventually(async () => {
        const res = await payments().get('/api/payments').query({ orderId: paid.id });
        expect(res.status).toBe(200);
        expect(res.body.items).toHaveLength(1);
        return res.body.items;
      });
      expect(list[0]).toEqual({ id: expect.any(Number), orderId: paid.id, amountCents: 1000, status: 'captured', createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) });
      const one = await payments().get(`/api/payments/${list[0].id}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(list[0]);
      const d = await payments().get('/api/payments').query({ orderId: declined.id });
      expect(d.body.items).toEqual([expect.objectContaining({ amountCents: 150_000, status: 'declined' })]);
    });

    it('unknown payments are 404 and a missing or bad orderId is 400', async () => {
      expectError(await payments().get('/api/payments/999999999'), 404, 'not_found');
      expectError(await payments().get('/api/payments/abc'), 404, 'not_found');
      expectError(await payments().get('/api/payments'), 400, 'validation_failed');
      expectError(await payments().get('/api/payments').query({ orderId: 'abc' }), 400, 'validation_failed');
      const none = await payments().get('/api/payments').query({ orderId: 999999999 });
      expect(none.status).toBe(200);
      expect(none.body).toEqual({ items: [] });
    });
  });

  if (has('notifications')) describe('notifications', () => {
    it('an order queues a notification that the dispatcher marks sent', async () => {
      const user = await newUser();
      const order = await newOrder(user.id);
      const sent = await eventually(async () => {
        const res = await notifications().get('/api/notifications').query({ userId: user.id });
        expect(res.status).toBe(200);
        expect(res.body.items).toHaveLength(1);
        expect(res.body.items[0].status).toBe('sent');
        return res.body.items[0];
      }, 15_000);
      expect(sent).toEqual({
        id: expect.any(Number),
        userId: user.id,
        kind: 'order_paid',
        payload: expect.objectContaining({ orderId: order.id, totalCents: order.totalCents }),
        status: 'sent',
        createdAt: expect.stringMatching(ISO),
        sentAt: expect.stringMatching(ISO),
      });
    });

    it('declined and cancelled orders notify with their kinds', async () => {
      const user = await newUser();
      await newOrder(user.id, [{ sku: 'LAPTOP', quantity: 1, unitPriceCents: 300_000 }]);
      const paid = await newOrder(user.id);
      expect((await orders().post(`/api/orders/${paid.id}/cancel`)).status).toBe(200);
      await eventually(async () => {
        const res = await notifications().get('/api/notifications').query({ userId: user.id });
        expect(res.body.items.map((n: { kind: string }) => n.kind).sort()).toEqual(['order_cancelled', 'order_paid', 'payment_declined']);
      }, 15_000);
    });

    it('a missing or bad userId is 400; a user without notifications has none', async () => {
      expectError(await notifications().get('/api/notifications'), 400, 'validation_failed');
      expectError(await notifications().get('/api/notifications').query({ userId: '-1' }), 400, 'validation_failed');
      const res = await notifications().get('/api/notifications').query({ userId: 999999999 });
      expect(res.body).toEqual({ items: [] });
    });
  });
}
