package registry

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Batch is base data loaded in one transaction by the system (the demo
// seeder, benchmarks): each kind with its source department. Rooms are
// registered before people, so that people can live in them.
type Batch struct {
	Buildings     []NewBuilding
	BuildingsDept string
	Rooms         map[string][]string // building address -> rooms
	People        []NewPerson
	PeopleDept    string
	Entities      []NewEntity
	EntitiesDept  string
	Components    []NewComponent // each with its owner department as source
}

// Load writes a batch. Only the system may load (it bypasses routing to
// authorities: it is the authorities' own data).
func (s *Service) Load(ctx context.Context, b Batch) error {
	p := authz.From(ctx)
	if p == nil || !p.Nationwide {
		return errs.Forbidden("only the system may load base data in bulk", "仅系统可批量装载基础数据")
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		w := s.newWriter(ctx, p, b.BuildingsDept)
		defer w.close()
		for i, in := range b.Buildings {
			br, err := s.prepareBuilding(ctx, in, fmt.Sprintf("buildings[%d].", i))
			if err != nil {
				return err
			}
			if _, err := w.buildingCode(ctx, br); err != nil {
				return err
			}
		}
		for addr, rooms := range b.Rooms {
			for _, room := range rooms {
				if _, err := w.exec(ctx, `INSERT INTO reg_addresses (id, building_id, room, full_text, grid_code, scope_key, lon, lat, created_at)
					SELECT ?, id, ?, address || ?, grid_code, scope_key, lon, lat, ? FROM reg_buildings WHERE address = ?`, newID(), room, room, w.now, addr); err != nil {
					return err
				}
			}
		}
		w.dept = b.PeopleDept
		if err := w.bulk(ctx); err != nil {
			return err
		}
		// People are prepared (validated, encrypted) on all cores a chunk
		// at a time, so that ten million fit in memory.
		const chunk = 100_000
		for start := 0; start < len(b.People); start += chunk {
			part := b.People[start:min(len(b.People), start+chunk)]
			people, err := parallel(part, func(in NewPerson, i int) (personRow, error) {
				return s.preparePerson(in, fmt.Sprintf("people[%d].", start+i))
			})
			if err != nil {
				return err
			}
			for i := range people {
				if err := w.person(ctx, &people[i], fmt.Sprintf("people[%d].", start+i)); err != nil {
					return err
				}
			}
		}
		if err := w.flush(ctx); err != nil {
			return err
		}
		w.dept = b.EntitiesDept
		for i, in := range b.Entities {
			e, err := s.prepareEntity(ctx, in, fmt.Sprintf("entities[%d].", i))
			if err != nil {
				return err
			}
			if err := w.entity(ctx, e); err != nil {
				return err
			}
		}
		for i, in := range b.Components {
			c, err := s.prepareComponent(ctx, in, fmt.Sprintf("components[%d].", i))
			if err != nil {
				return err
			}
			w.dept = c.owner
			if err := w.component(ctx, c); err != nil {
				return err
			}
		}
		return s.evidence(ctx, "registry.load", "load:"+newID(), "", "", map[string]any{
			"buildings": len(b.Buildings), "people": len(b.People), "entities": len(b.Entities), "components": len(b.Components)})
	})
}

// parallel maps f over in on all cores, stopping at the first error.
func parallel[I, O any](in []I, f func(I, int) (O, error)) ([]O, error) {
	out := make([]O, len(in))
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(in) {
					return
				}
				o, err := f(in[i], i)
				if err != nil {
					once.Do(func() { first = err })
					next.Store(int64(len(in)))
					return
				}
				out[i] = o
			}
		})
	}
	wg.Wait()
	return out, first
}
