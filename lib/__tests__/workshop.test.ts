import express from 'express';
import request from 'supertest';
import { createServiceApp } from '../http/app';
import { createLogger } from '../logger';
import { Workshop } from '../http/workshop';

const TOKEN = 'workshop-token-0123456789';

/** A service with one route whose answer depends on a planted bug, as the sample services' are. */
function service(enabled: boolean) {
  const workshop = new Workshop({ service: 'things', enabled, token: enabled ? TOKEN : undefined, bugs: [{ name: 'things-rounded', description: 'rounds' }] });
  const router = express.Router();
  router.get('/api/things/1', (_req, res) => {
    res.json({ amountCents: workshop.bug('things-rounded') ? 1200 : 1234 });
  });
  const app = createServiceApp({ logger: createLogger('test', 'silent'), routers: [router], health: async () => undefined, workshop });
  return { app, workshop };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('workshop switches in a service', () => {
  it('refuses every switch outside workshop mode, and nothing changes', async () => {
    const { app } = service(false);
    const res = await request(app).post('/_workshop/fault').set(auth).send({ fault: 'errors' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('workshop_mode_off');
    expect((await request(app).post('/_workshop/bugs/things-rounded').set(auth).send({ on: true })).status).toBe(403);
    expect((await request(app).get('/api/things/1')).body).toEqual({ amountCents: 1234 });
    expect((await request(app).get('/health')).body).toEqual({ status: 'ok' });
  });

  it('needs the admin token and a valid body', async () => {
    const { app } = service(true);
    expect((await request(app).post('/_workshop/fault').send({ fault: 'errors' })).status).toBe(401);
    const bad = await request(app).post('/_workshop/fault').set(auth).send({ fault: 'melted' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_fault');
    const unknown = await request(app).post('/_workshop/bugs/nope').set(auth).send({ on: true });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_bug');
  });

  it('switches a planted bug at run time and reports it in /health while it is on', async () => {
    const { app } = service(true);
    const on = await request(app).post('/_workshop/bugs/things-rounded').set(auth).send({ on: true });
    expect(on.body.bugs).toEqual([{ name: 'things-rounded', description: 'rounds', on: true }]);
    expect((await request(app).get('/api/things/1')).body).toEqual({ amountCents: 1200 });
    expect((await request(app).get('/health')).body).toEqual({ status: 'ok', notices: ['workshop bug on: things-rounded'] });
    await request(app).post('/_workshop/bugs/things-rounded').set(auth).send({ on: false }).expect(200);
    expect((await request(app).get('/api/things/1')).body).toEqual({ amountCents: 1234 });
    expect((await request(app).get('/health')).body).toEqual({ status: 'ok' });
  });

  it('injects errors, a dropped connection and slowness, and mends with ok', async () => {
    const { app } = service(true);
    await request(app).post('/_workshop/fault').set(auth).send({ fault: 'errors' }).expect(200);
    const failing = await request(app).get('/api/things/1');
    expect(failing.status).toBe(500);
    expect(failing.body.error.code).toBe('workshop_fault');
    const health = await request(app).get('/health');
    expect(health.status).toBe(503);
    expect(health.body.notices[0]).toMatch(/^workshop fault: errors since /);

    await request(app).post('/_workshop/fault').set(auth).send({ fault: 'down' }).expect(200);
    await expect(request(app).get('/api/things/1')).rejects.toThrow(/socket hang up|ECONNRESET/);

    await request(app).post('/_workshop/fault').set(auth).send({ fault: 'slow', ms: 300 }).expect(200);
    const started = Date.now();
    expect((await request(app).get('/api/things/1')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect((await request(app).get('/health')).status).toBe(200);

    const mended = await request(app).post('/_workshop/fault').set(auth).send({ fault: 'ok' });
    expect(mended.body.fault).toBeNull();
    expect((await request(app).get('/api/things/1')).body).toEqual({ amountCents: 1234 });
  });
});
