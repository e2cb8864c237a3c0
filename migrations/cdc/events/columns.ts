/** A captured column as the catalog describes it: what values.ts decodes by and connect-schema.ts describes. */
export interface ColumnInfo {
  name: string;
  /** For a domain, its base type: Debezium maps domains like their base. */
  typeOid: number;
  typeMod: number;
  /** The (base) type's name: extension types such as hstore have no fixed OID. */
  typeName?: string;
  /** For an array, its element type (enum and extension arrays have no fixed OID either). */
  elementOid?: number | null;
  /** What a Connect schema says besides the type: NOT NULL, the DEFAULT expression, an enum's labels (comma-separated). */
  notNull?: boolean;
  defaultExpr?: string | null;
  enumLabels?: string | null;
}
