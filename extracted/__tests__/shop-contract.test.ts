import { describeShopContract } from '../../test/contract/shop.contract';
import type { ShopTarget } from '../../test/contract/target';
import { describeWithKafka } from '../../test/harness/kafka';
import { startShop, type Shop } from './shop';

describeWithKafka('extracted services: the whole shop contract across users, orders, payments and notifications', () => {
  let shop: Shop;
  let target: ShopTarget;
  beforeAll(async () => {
    shop = await startShop();
    target = shop.target;
  });
  afterAll(() => shop?.stop());

  describeShopContract(() => target, ['users', 'orders', 'payments', 'notifications']);
});
