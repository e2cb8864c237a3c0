import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize,
  type Transaction,
} from 'sequelize';

export class Payment extends Model<InferAttributes<Payment>, InferCreationAttributes<Payment>> {
  declare id: CreationOptional<number>;
  declare orderId: number;
  declare amountCents: number;
  declare status: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class IdempotencyKey extends Model<InferAttributes<IdempotencyKey>, InferCreationAttributes<IdempotencyKey>> {
  declare key: string;
  declare requestHash: string;
  declare paymentId: number;
  declare createdAt: CreationOptional<Date>;
}

// Two-int advisory locks live in their own key space, apart from the migrator's single-bigint lock.
const IDEMPOTENCY_LOCK_NAMESPACE = 0x50415931; // "PAY1"

/** Data access for `payments` and `idempotency_keys`. */
export class PaymentsStore {
  private readonly Payment: typeof Payment;
  private readonly IdempotencyKey: typeof IdempotencyKey;

  constructor(private readonly sequelize: Sequelize) {
    // A subclass per instance keeps Sequelize's static state per database (two services in one test process).
    this.Payment = class extends Payment {};
    this.IdempotencyKey = class extends IdempotencyKey {};
    this.Payment.init(
      {
        id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
        orderId: { type: DataTypes.INTEGER, allowNull: false },
        amountCents: {
          type: DataTypes.BIGINT,
          allowNull: false,
          // pg returns bigint as a string; amounts are bounded below 2^53 by validation.
          get(this: Payment) {
            const raw = this.getDataValue('amountCents') as unknown;
            return raw === null || raw === undefined ? raw : Number(raw);
          },
        },
        status: { type: DataTypes.STRING, allowNull: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, modelName: 'Payment', tableName: 'payments', underscored: true },
    );
    this.IdempotencyKey.init(
      {
        key: { type: DataTypes.STRING, primaryKey: true },
        requestHash: { type: DataTypes.STRING, allowNull: false },
        paymentId: { type: DataTypes.INTEGER, allowNull: false },
        createdAt: DataTypes.DATE,
      },
      { sequelize, modelName: 'IdempotencyKey', tableName: 'idempotency_keys', underscored: true, updatedAt: false },
    );
  }

  findById(id: number, transaction?: Transaction): Promise<Payment | null> {
    return this.Payment.findByPk(id, { transaction });
  }

  listForOrder(orderId: number): Promise<Payment[]> {
    return this.Payment.findAll({ where: { orderId }, order: [['id', 'ASC']] });
  }

  findForOrderForUpdate(orderId: number, transaction: Transaction): Promise<Payment | null> {
    return this.Payment.findOne({ where: { orderId }, transaction, lock: transaction.LOCK.UPDATE });
  }

  create(input: { orderId: number; amountCents: number; status: string }, transaction: Transaction): Promise<Payment> {
    return this.Payment.create(input, { transaction });
  }

  /**
   * Serialises requests carrying the same key until the transaction ends, so a retry racing the original waits
   * and then sees its committed key instead of capturing again.
   */
  async lockKey(key: string, transaction: Transaction): Promise<void> {
    await this.sequelize.query('SELECT pg_advisory_xact_lock(:ns, hashtext(:key))', {
      replacements: { ns: IDEMPOTENCY_LOCK_NAMESPACE, key },
      transaction,
    });
  }

  findKey(key: string, transaction: Transaction): Promise<IdempotencyKey | null> {
    return this.IdempotencyKey.findByPk(key, { transaction });
  }

  async saveKey(input: { key: string; requestHash: string; paymentId: number }, transaction: Transaction): Promise<void> {
    await this.IdempotencyKey.create(input, { transaction });
  }
}
