import {
  DataTypes,
  Model,
  Op,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize,
  type Transaction,
  type WhereOptions,
} from 'sequelize';

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>;
  declare email: string;
  /** Column `full_name`; the API calls it `name`. */
  declare fullName: string;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** Data access for the `users` table; knows the schema, not the HTTP contract. */
export class UsersStore {
  private readonly User: typeof User;

  constructor(private readonly sequelize: Sequelize) {
    // A subclass per instance keeps Sequelize's static state per database (two services in one test process).
    this.User = class extends User {};
    this.User.init(
      {
        id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
        email: { type: DataTypes.STRING, allowNull: false },
        fullName: { type: DataTypes.STRING, allowNull: false },
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { sequelize, modelName: 'User', tableName: 'users', underscored: true },
    );
  }

  create(input: { email: string; fullName: string }, transaction: Transaction): Promise<User> {
    return this.User.create(input, { transaction });
  }

  findById(id: number, options: { transaction?: Transaction; forUpdate?: boolean } = {}): Promise<User | null> {
    const { transaction, forUpdate } = options;
    return this.User.findByPk(id, { transaction, lock: forUpdate && transaction ? transaction.LOCK.UPDATE : undefined });
  }

  /** Keyset page in id order; fetches one extra row so the caller knows whether another page exists. */
  page(q: { afterId?: number; emailLower?: string; take: number }): Promise<User[]> {
    const conditions: WhereOptions<User>[] = [];
    if (q.afterId !== undefined) conditions.push({ id: { [Op.gt]: q.afterId } });
    if (q.emailLower !== undefined) {
      conditions.push(this.sequelize.where(this.sequelize.fn('lower', this.sequelize.col('email')), q.emailLower));
    }
    return this.User.findAll({ where: { [Op.and]: conditions }, order: [['id', 'ASC']], limit: q.take });
  }
}
