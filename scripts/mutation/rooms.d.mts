export declare const rooms: Record<string, { mutate: string[]; tests: string[] }>;
export declare function currentRoom(): { name: string; mutate: string[]; tests: string[] };
