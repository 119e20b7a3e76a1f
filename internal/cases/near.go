package cases

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/tidwall/rtree"
)

// nearIndex keeps the open cases of the last week in memory, in an R-tree
// of their points, for the duplicate check every report makes. It is
// updated after each commit of this process and reloaded from the database
// every reloadEvery (other replicas' cases, cases written by the seeder);
// a suggestion is only a suggestion, so a minute of staleness across
// replicas is acceptable.
type nearIndex struct {
	mu     sync.RWMutex
	tree   rtree.RTreeG[*nearCase]
	byID   map[string]*nearCase
	loaded time.Time
}

type nearCase struct {
	id, no, category, component, desc string
	state                             State
	lon, lat                          float64
	created                           int64
	grams                             []uint64
}

const (
	dupWindow   = 7 * 24 * time.Hour
	dupRadiusM  = 300.0
	reloadEvery = time.Minute
)

func newNearCase(c *Case) *nearCase {
	return &nearCase{id: c.ID, no: c.No, category: c.Category, component: c.Component, desc: c.Description, state: c.State, lon: c.Lon, lat: c.Lat,
		created: c.CreatedAt, grams: bigrams(c.Description)}
}

func (n *nearIndex) put(nc *nearCase) {
	if old, ok := n.byID[nc.id]; ok {
		n.tree.Delete([2]float64{old.lon, old.lat}, [2]float64{old.lon, old.lat}, old)
	}
	n.byID[nc.id] = nc
	n.tree.Insert([2]float64{nc.lon, nc.lat}, [2]float64{nc.lon, nc.lat}, nc)
}

func (n *nearIndex) drop(id string) {
	if old, ok := n.byID[id]; ok {
		n.tree.Delete([2]float64{old.lon, old.lat}, [2]float64{old.lon, old.lat}, old)
		delete(n.byID, id)
	}
}

// noteCases records cases after a commit: open ones in, the rest out.
func (s *Service) noteCases(cs ...*Case) {
	s.near.mu.Lock()
	defer s.near.mu.Unlock()
	if s.near.byID == nil {
		return // not loaded yet: the load will read them
	}
	for _, c := range cs {
		if c.open() {
			s.near.put(newNearCase(c))
		} else {
			s.near.drop(c.ID)
		}
	}
}

// ensureNear loads (or reloads) the index from the database.
func (s *Service) ensureNear(ctx context.Context) error {
	s.near.mu.RLock()
	fresh := s.near.byID != nil && time.Since(s.near.loaded) < reloadEvery
	s.near.mu.RUnlock()
	if fresh {
		return nil
	}
	since := s.now().Add(-dupWindow).UnixMilli()
	rows, err := s.db.Query(ctx, `SELECT id, no, state, category, component, description, lon, lat, created_at FROM cases
		WHERE created_at >= ? AND state IN ('reported', 'filed', 'dispatched', 'handled', 'suspended')`, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	var list []*nearCase
	for rows.Next() {
		nc := &nearCase{}
		var st string
		if err := rows.Scan(&nc.id, &nc.no, &st, &nc.category, &nc.component, &nc.desc, &nc.lon, &nc.lat, &nc.created); err != nil {
			return err
		}
		nc.state, nc.grams = State(st), bigrams(nc.desc)
		list = append(list, nc)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.near.mu.Lock()
	defer s.near.mu.Unlock()
	s.near.tree.Clear()
	s.near.byID = make(map[string]*nearCase, len(list))
	for _, nc := range list {
		s.near.put(nc)
	}
	s.near.loaded = time.Now()
	return nil
}

// duplicates finds open cases that may be the same thing as c: the same
// component, or within 300 m in the last 7 days with similar text or,
// within 50 m, the same category. Nearest first, at most 5.
// maxNear bounds how many of the nearest open cases a report is compared
// with.
const maxNear = 64

func (s *Service) duplicates(ctx context.Context, c *Case) ([]Suggestion, error) {
	if err := s.ensureNear(ctx); err != nil {
		return nil, err
	}
	out := []Suggestion{}
	since := c.CreatedAt - dupWindow.Milliseconds()
	dLat := dupRadiusM / 111_320
	dLon := dLat / math.Max(0.1, math.Cos(c.Lat*math.Pi/180))
	var grams []uint64
	s.near.mu.RLock()
	consider := func(nc *nearCase) {
		if nc.id == c.ID || nc.created < since {
			return
		}
		sg := Suggestion{ID: nc.id, No: nc.no, State: nc.state, Category: nc.category, Description: nc.desc, DistanceM: math.Round(distanceM(c.Lon, c.Lat, nc.lon, nc.lat))}
		switch {
		case c.Component != "" && nc.component == c.Component:
			sg.Reason = "component"
		case sg.DistanceM <= dupRadiusM:
			if grams == nil {
				grams = bigrams(c.Description)
			}
			sg.Similarity = math.Round(dice(grams, nc.grams)*100) / 100
			switch {
			case sg.Similarity >= 0.5:
				sg.Reason = "text"
			case sg.DistanceM <= 50 && c.Category != "" && nc.category == c.Category:
				sg.Reason = "place"
			default:
				return
			}
		default:
			return
		}
		out = append(out, sg)
	}
	// Nearest first, at most maxNear of them: in a surge thousands of open
	// cases lie within the radius, and comparing with every one made each
	// report slower than the last.
	pt := [2]float64{c.Lon, c.Lat}
	seen := 0
	far := dLon*dLon + dLat*dLat // squared degrees: beyond it everything is outside the box
	s.near.tree.Nearby(rtree.BoxDist[float64, *nearCase](pt, pt, nil), func(min, _ [2]float64, nc *nearCase, dist float64) bool {
		if dist > far {
			return false
		}
		if math.Abs(min[0]-c.Lon) > dLon || math.Abs(min[1]-c.Lat) > dLat {
			return true
		}
		consider(nc)
		seen++
		return seen < maxNear
	})
	if c.Component != "" {
		for _, nc := range s.near.byID { // the same component reported from afar (rare: components have one place)
			inBox := math.Abs(nc.lon-c.Lon) <= dLon && math.Abs(nc.lat-c.Lat) <= dLat // already seen by the tree search
			if nc.component == c.Component && !inBox {
				consider(nc)
			}
		}
	}
	s.near.mu.RUnlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].DistanceM < out[j].DistanceM })
	if len(out) > 5 {
		out = out[:5]
	}
	return out, nil
}
