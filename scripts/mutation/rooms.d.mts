export interface Room {
  mutate: string[];
  tests: string[];
  exclude?: string[];
}
export declare const rooms: Record<string, Room>;
export declare function currentRoom(): { name: string } & Room;
