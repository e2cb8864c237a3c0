import { describeShopContract } from '../../test/contract/shop.contract';
import type { ShopTarget } from '../../test/contract/target';
import { startTestMonolith, type TestMonolith } from '../testing';

describe('monolith: the shop contract', () => {
  let m: TestMonolith;
  let target: ShopTarget;
  beforeAll(async () => {
    m = await startTestMonolith();
    const url = m.server.url;
    target = { name: 'monolith', baseUrls: { users: url, orders: url, payments: url, notifications: url } };
  });
  afterAll(async () => {
    await m.stop();
  });

  describeShopContract(() => target);
});
