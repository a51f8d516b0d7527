// What every Admin list (variables, connections, pools, users) does the same way: read the whole
// collection (the lists search and page on the client), delete one item behind a confirmation,
// and save an item from a form; each change refreshes the list.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { fetchAll } from "./fetch-all";

export function useAdminCollection<T>(options: {
  key: readonly string[];
  page: (offset: number, limit: number) => Promise<{ items: T[]; total: number }>;
  remove: (item: T) => Promise<unknown>;
  refetchInterval?: number;
}) {
  const client = useQueryClient();
  const [deleting, setDeleting] = useState<T | null>(null);
  const all = useQuery({
    queryKey: options.key,
    queryFn: () => fetchAll(options.page),
    ...(options.refetchInterval === undefined ? {} : { refetchInterval: options.refetchInterval }),
  });
  const del = useMutation({
    mutationFn: options.remove,
    onSuccess: async () => {
      setDeleting(null);
      await client.invalidateQueries({ queryKey: options.key });
    },
  });
  /** ConfirmDelete's wiring for the item being deleted. */
  const confirm = (item: T) => ({
    pending: del.isPending,
    error: del.error,
    onConfirm: () => del.mutate(item),
    onClose: () => {
      del.reset();
      setDeleting(null);
    },
  });
  return { all, deleting, setDeleting, confirm };
}

/** A form's save: on success the list under `key` is read again and the form closes. */
export function useSave<R>(key: readonly string[], save: () => Promise<R>, onClose: () => void) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: save,
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: key });
      onClose();
    },
  });
}
