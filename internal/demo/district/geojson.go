package district

import (
	"encoding/json"
	"fmt"
)

// LevelGrid selects unit grids in GeoJSON.
const LevelGrid = "grid"

type feature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
	Geometry   geometry       `json:"geometry"`
}

type geometry struct {
	Type        string         `json:"type"`
	Coordinates [][][2]float64 `json:"coordinates"`
}

// GeoJSON returns an RFC 7946 FeatureCollection of the polygons of one level
// (county, township, community, or LevelGrid), usable directly as an ECharts
// map (each feature has properties.name) or in any web map.
func (d *District) GeoJSON(level string) ([]byte, error) {
	var fs []feature
	switch level {
	case LevelCounty, LevelTownship, LevelCommunity:
		for _, div := range d.filter(level) {
			fs = append(fs, feature{Type: "Feature", ID: div.Code,
				Properties: map[string]any{"code": div.Code, "short": div.Short, "name": div.Name,
					"level": div.Level, "parentCode": div.Parent, "centroid": div.Centroid},
				Geometry: geometry{Type: "Polygon", Coordinates: [][][2]float64{div.Ring}}})
		}
	case LevelGrid:
		for _, g := range d.Grids {
			fs = append(fs, feature{Type: "Feature", ID: g.Code,
				Properties: map[string]any{"code": g.Code, "name": g.Name, "seq": g.Seq,
					"communityCode": g.Community, "streetCode": g.Street, "centroid": g.Centroid},
				Geometry: geometry{Type: "Polygon", Coordinates: [][][2]float64{g.Ring}}})
		}
	default:
		return nil, fmt.Errorf("district: GeoJSON: level %q has no polygons (want county, township, community or grid)", level)
	}
	return json.Marshal(map[string]any{"type": "FeatureCollection", "features": fs})
}
