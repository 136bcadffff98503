package state

import "sync"

// recentMax bounds how many objects a store remembers.
const recentMax = 4096

// recentObjects remembers the stored documents of the objects this store
// wrote last, so that the next edit of one (the worker's, above all,
// which edits the same repositories' objects event after event) skips
// reading it back. Such an edit is written on the condition that the
// object is still at the remembered revision and id, so an entry that
// another writer made stale costs one retry, never a lost change.
type recentObjects struct {
	mu   sync.Mutex
	docs map[string][]byte
}

func recentKey(typ, name string) string { return typ + "\x00" + name }

// remember records an object's stored document as its current version.
func (r *recentObjects) remember(typ, name string, doc []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.docs == nil {
		r.docs = make(map[string][]byte)
	}
	if len(r.docs) >= recentMax {
		for k := range r.docs { // an arbitrary one makes room
			delete(r.docs, k)
			break
		}
	}
	r.docs[recentKey(typ, name)] = doc
}

// forget drops what is remembered of an object.
func (r *recentObjects) forget(typ, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.docs, recentKey(typ, name))
}

// lookup returns an object's remembered document, or nil.
func (r *recentObjects) lookup(typ, name string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.docs[recentKey(typ, name)]
}
