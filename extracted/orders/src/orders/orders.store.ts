import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize,
  type Transaction,
} from 'sequelize';
import type { OrderItem } from './orders.schema';

export type OrderStatus = 'pending' | 'paid' | 'payment_declined' | 'cancelled';

export class Order extends Model<InferAttributes<Order>, InferCreationAttributes<Order>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare status: OrderStatus;
  declare totalCents: number;
  declare currency: CreationOptional<string>;
  /** Column `items` (jsonb): the order's lines in the order they were placed. */
  declare items: OrderItem[];
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** Data access for the `orders` table; knows the schema, not the HTTP contract. */
export class OrdersStore {
  private readonly Order: typeof Order;

  constructor(private readonly sequelize: Sequelize) {
    // A subclass per instance keeps Sequelize's static state per database (several services in one test process).
    this.Order = class extends Order {};
    this.Order.init(
      {
        id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
        userId: { type: DataTypes.INTEGER, allowNull: false },
        status: { type: DataTypes.STRING, allowNull: false },
        totalCents: {
          type: DataTypes.BIGINT,
          allowNull: false,
          // pg returns bigint as a string; totals are bounded below 2^53 by validation.
          get(this: Order) {
            const raw = this.getDataValue('totalCents') as unknown;
            return raw === null || raw === undefined ? raw : Number(raw);
          },
        },
        currency: { type: DataTypes.STRING, allowNull: false, defaultValue: 'USD' },
        items: { type: DataTypes.JSONB, allowNull: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, modelName: 'Order', tableName: 'orders', underscored: true },
    );
  }

  create(input: { id?: number; userId: number; status: OrderStatus; totalCents: number; items: OrderItem[] }, transaction: Transaction): Promise<Order> {
    return this.Order.create(input, { transaction });
  }

  /** An id no real order has or will have (migration 0002): for a dry run's order. */
  async nextDryRunId(transaction: Transaction): Promise<number> {
    const [rows] = await this.sequelize.query("SELECT nextval('orders_dry_run_id_seq')::int AS id", { transaction });
    return (rows[0] as { id: number }).id;
  }

  findById(id: number, options: { transaction?: Transaction; forUpdate?: boolean } = {}): Promise<Order | null> {
    const { transaction, forUpdate } = options;
    return this.Order.findByPk(id, { transaction, lock: forUpdate && transaction ? transaction.LOCK.UPDATE : undefined });
  }

  /** Newest first, ties broken by id like the monolith (served by `orders_user_id_idx`). */
  listForUser(userId: number): Promise<Order[]> {
    return this.Order.findAll({
      where: { userId },
      order: [
        ['createdAt', 'DESC'],
        ['id', 'DESC'],
      ],
    });
  }

  async setStatus(order: Order, status: OrderStatus, transaction: Transaction): Promise<Order> {
    order.status = status;
    return order.save({ transaction });
  }
}
