import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type CreationOptional, type Sequelize } from 'sequelize';

// bigint columns come back from pg as strings; money is bounded well below 2^53 (see orders validation).
const bigintAsNumber = (field: string) => ({
  type: DataTypes.BIGINT,
  allowNull: false,
  get(this: Model) {
    const raw = this.getDataValue(field as never) as unknown;
    return raw === null || raw === undefined ? raw : Number(raw);
  },
});

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare email: string;
  declare name: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Order extends Model<InferAttributes<Order>, InferCreationAttributes<Order>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare status: string;
  declare totalCents: number;
  declare currency: CreationOptional<string>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare items?: OrderItem[];
}

export class OrderItem extends Model<InferAttributes<OrderItem>, InferCreationAttributes<OrderItem>> {
  declare id: CreationOptional<number>;
  declare orderId: number;
  declare position: number;
  declare sku: string;
  declare quantity: number;
  declare unitPriceCents: number;
}

export class Payment extends Model<InferAttributes<Payment>, InferCreationAttributes<Payment>> {
  declare id: CreationOptional<number>;
  declare orderId: number;
  declare amountCents: number;
  declare status: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class Notification extends Model<InferAttributes<Notification>, InferCreationAttributes<Notification>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare kind: string;
  declare payload: Record<string, unknown>;
  declare status: CreationOptional<string>;
  declare createdAt: CreationOptional<Date>;
  declare sentAt: CreationOptional<Date | null>;
}

const UserModel = User;
const OrderModel = Order;
const OrderItemModel = OrderItem;
const PaymentModel = Payment;
const NotificationModel = Notification;

export interface Models {
  User: typeof User;
  Order: typeof Order;
  OrderItem: typeof OrderItem;
  Payment: typeof Payment;
  Notification: typeof Notification;
}

/**
 * Binds fresh model classes to one Sequelize instance. Subclassing keeps the static state (connection,
 * associations) per instance, so two monoliths in one process (tests) never share a database by accident.
 */
export function defineModels(sequelize: Sequelize): Models {
  const User = class extends UserModel {};
  const Order = class extends OrderModel {};
  const OrderItem = class extends OrderItemModel {};
  const Payment = class extends PaymentModel {};
  const Notification = class extends NotificationModel {};
  const id = { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true };
  const timestamps = { createdAt: DataTypes.DATE, updatedAt: DataTypes.DATE };
  User.init({ id, email: { type: DataTypes.STRING, allowNull: false }, name: { type: DataTypes.STRING, allowNull: false }, ...timestamps }, { sequelize, tableName: 'users', underscored: true });
  Order.init(
    {
      id,
      userId: { type: DataTypes.INTEGER, allowNull: false },
      status: { type: DataTypes.STRING, allowNull: false },
      totalCents: bigintAsNumber('totalCents'),
      currency: { type: DataTypes.STRING, allowNull: false, defaultValue: 'USD' },
      ...timestamps,
    },
    { sequelize, tableName: 'orders', underscored: true },
  );
  OrderItem.init(
    {
      id,
      orderId: { type: DataTypes.INTEGER, allowNull: false },
      position: { type: DataTypes.INTEGER, allowNull: false },
      sku: { type: DataTypes.STRING, allowNull: false },
      quantity: { type: DataTypes.INTEGER, allowNull: false },
      unitPriceCents: bigintAsNumber('unitPriceCents'),
    },
    { sequelize, tableName: 'order_items', underscored: true, timestamps: false },
  );
  Payment.init(
    { id, orderId: { type: DataTypes.INTEGER, allowNull: false }, amountCents: bigintAsNumber('amountCents'), status: { type: DataTypes.STRING, allowNull: false }, ...timestamps },
    { sequelize, tableName: 'payments', underscored: true },
  );
  Notification.init(
    {
      id,
      userId: { type: DataTypes.INTEGER, allowNull: false },
      kind: { type: DataTypes.STRING, allowNull: false },
      payload: { type: DataTypes.JSONB, allowNull: false },
      status: { type: DataTypes.STRING, allowNull: false, defaultValue: 'queued' },
      createdAt: DataTypes.DATE,
      sentAt: { type: DataTypes.DATE, allowNull: true },
    },
    { sequelize, tableName: 'notifications', underscored: true, updatedAt: false },
  );
  Order.hasMany(OrderItem, { foreignKey: 'orderId', as: 'items' });
  return { User, Order, OrderItem, Payment, Notification };
}
