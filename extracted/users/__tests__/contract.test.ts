import { describeShopContract } from '../../../test/contract/shop.contract';
import type { ShopTarget } from '../../../test/contract/target';
import { startTestUsersService, type TestUsersService } from '../testing';
import { startStubOrders, type StubOrders } from './stub-orders';

// Nothing in a ['users'] run calls another context; a closed port makes any such call fail loudly.
const NOT_IN_THIS_RUN = 'http://127.0.0.1:9';

describe('users service: the shop contract', () => {
  let service: TestUsersService;
  let orders: StubOrders;
  let target: ShopTarget;
  beforeAll(async () => {
    // DELETE asks the orders service; here nobody has orders, so the contract's "204, then 404" applies.
    orders = await startStubOrders();
    service = await startTestUsersService({ orders: { url: orders.url } });
    target = {
      name: 'users service',
      baseUrls: { users: service.server.url, orders: NOT_IN_THIS_RUN, payments: NOT_IN_THIS_RUN, notifications: NOT_IN_THIS_RUN },
    };
  });
  afterAll(async () => {
    await service?.stop();
    await orders?.close();
  });

  describeShopContract(() => target, ['users']);
});
