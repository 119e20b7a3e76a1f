package ogc

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
)

// api serves the OpenAPI 3.0 definition of this server (the service-desc
// of the landing page): the generic resources plus, for each collection the
// caller may read, its items path with its queryables as parameters.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	if !s.plainParams(w, r) {
		return
	}
	writeJSON(w, r, typeOpenAPI, s.openAPI(s.baseURL(r), s.visible(authz.From(r.Context()))))
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": name} }

func jsonContent(mediaType string, schema obj) obj {
	return obj{mediaType: obj{"schema": schema}}
}

func (s *Server) openAPI(base string, cols []Collection) obj {
	params := obj{
		"collectionId": obj{"name": "collectionId", "in": "path", "required": true, "description": "Collection id", "schema": obj{"type": "string"}},
		"featureId":    obj{"name": "featureId", "in": "path", "required": true, "description": "Feature id", "schema": obj{"type": "string"}},
		"f": obj{"name": "f", "in": "query", "required": false, "description": "Encoding: JSON only",
			"schema": obj{"type": "string", "enum": []string{"json"}}, "style": "form", "explode": false},
		"limit": obj{"name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "Maximum number of features per page (" + strconv.Itoa(DefaultLimit) + " by default; a larger value than " + strconv.Itoa(MaxLimit) + " is treated as " + strconv.Itoa(MaxLimit) + ").",
			"schema":      obj{"type": "integer", "minimum": 1, "maximum": MaxLimit, "default": DefaultLimit}},
		"offset": obj{"name": "offset", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "Number of matching features to skip (paging; the next and prev links carry it).",
			"schema":      obj{"type": "integer", "minimum": 0, "maximum": MaxOffset, "default": 0}},
		"bbox": obj{"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "Only features whose geometry intersects the box west,south,east,north (WGS84 lon/lat, CRS84).",
			"schema":      obj{"type": "array", "minItems": 4, "maxItems": 6, "items": obj{"type": "number"}}},
		"datetime": obj{"name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
			"description": "An RFC 3339 date-time or date, or an interval start/end with '..' for an open end. " +
				"Only features with a temporal property that intersects it are selected; collections whose features " +
				"carry no time (no temporal extent) validate the value and then ignore it.",
			"schema": obj{"type": "string"}},
	}
	problem := jsonContent("application/problem+json", ref("#/components/schemas/problem"))
	responses := obj{
		"400": obj{"description": "Invalid parameter (RFC 9457 problem naming the parameter and rule)", "content": problem},
		"401": obj{"description": "No session or API token", "content": problem},
		"403": obj{"description": "The caller lacks the collection's permission", "content": problem},
		"404": obj{"description": "No such collection or feature (or outside the caller's region)", "content": problem},
	}
	errorRefs := func(codes ...string) obj {
		out := obj{}
		for _, c := range codes {
			out[c] = ref("#/components/responses/" + c)
		}
		return out
	}
	get := func(id, summary string, parameters []any, okDesc, mediaType string, schema obj, errCodes ...string) obj {
		rs := errorRefs(errCodes...)
		rs["200"] = obj{"description": okDesc, "content": jsonContent(mediaType, schema)}
		return obj{"get": obj{"operationId": id, "summary": summary, "tags": []string{"OGC API - Features"}, "parameters": parameters, "responses": rs}}
	}
	p := func(name string) obj { return ref("#/components/parameters/" + name) }
	anyObject := obj{"type": "object"}
	paths := obj{
		"/":    get("getLandingPage", "Landing page", []any{p("f")}, "Links to the API definition, conformance and collections", typeJSON, ref("#/components/schemas/landingPage"), "400", "401"),
		"/api": get("getAPI", "This API definition", []any{p("f")}, "The OpenAPI 3.0 document", typeOpenAPI, anyObject, "400", "401"),
		"/conformance": get("getConformance", "Conformance classes", []any{p("f")}, "The conformance classes implemented", typeJSON,
			obj{"type": "object", "required": []string{"conformsTo"}, "properties": obj{"conformsTo": obj{"type": "array", "items": obj{"type": "string"}}}}, "400", "401"),
		"/collections": get("getCollections", "The feature collections", []any{p("f")}, "The collections the caller may read", typeJSON,
			obj{"type": "object", "required": []string{"links", "collections"}, "properties": obj{
				"links": obj{"type": "array", "items": ref("#/components/schemas/link")}, "collections": obj{"type": "array", "items": ref("#/components/schemas/collection")}}}, "400", "401"),
		"/collections/{collectionId}": get("describeCollection", "One collection", []any{p("collectionId"), p("f")}, "The collection", typeJSON,
			ref("#/components/schemas/collection"), "400", "401", "403", "404"),
		"/collections/{collectionId}/queryables": get("getQueryables", "Properties usable as filters", []any{p("collectionId"), p("f")}, "A JSON Schema of the queryables", typeSchema,
			anyObject, "400", "401", "403", "404"),
		"/collections/{collectionId}/items": get("getFeatures", "Features of a collection", []any{p("collectionId"), p("limit"), p("offset"), p("bbox"), p("datetime"), p("f")},
			"A page of features (GeoJSON FeatureCollection)", typeGeoJSON, ref("#/components/schemas/featureCollection"), "400", "401", "403", "404"),
		"/collections/{collectionId}/items/{featureId}": get("getFeature", "One feature", []any{p("collectionId"), p("featureId"), p("f")},
			"The feature (GeoJSON)", typeGeoJSON, ref("#/components/schemas/feature"), "400", "401", "403", "404"),
	}
	for _, c := range cols {
		info := c.Describe()
		ps := []any{p("limit"), p("offset"), p("bbox"), p("datetime"), p("f")}
		for _, q := range info.Queryables {
			for _, name := range append([]string{q.Name}, q.Aliases...) {
				schema := obj{"type": q.Type}
				if len(q.Enum) > 0 {
					schema["enum"] = q.Enum
				}
				if q.Pattern != "" {
					schema["pattern"] = q.Pattern
				}
				desc := q.Description
				if name != q.Name {
					desc = "Same as " + q.Name + ". " + desc
				}
				ps = append(ps, obj{"name": name, "in": "query", "required": false, "style": "form", "explode": false, "description": strings.TrimSpace(desc), "schema": schema})
			}
		}
		op := get("getFeatures_"+strings.ReplaceAll(info.ID, "-", "_"), info.Title, ps, "A page of "+info.ID+" features", typeGeoJSON,
			ref("#/components/schemas/featureCollection"), "400", "401", "403")
		op["get"].(obj)["description"] = info.Description
		paths["/collections/"+info.ID+"/items"] = op
	}
	link := obj{"type": "object", "required": []string{"href", "rel"}, "properties": obj{
		"href": obj{"type": "string"}, "rel": obj{"type": "string"}, "type": obj{"type": "string"}, "title": obj{"type": "string"}}}
	links := obj{"type": "array", "items": ref("#/components/schemas/link")}
	schemas := obj{
		"link":        link,
		"landingPage": obj{"type": "object", "required": []string{"links"}, "properties": obj{"title": obj{"type": "string"}, "description": obj{"type": "string"}, "links": links}},
		"collection": obj{"type": "object", "required": []string{"id", "links"}, "properties": obj{
			"id": obj{"type": "string"}, "title": obj{"type": "string"}, "description": obj{"type": "string"}, "links": links,
			"extent": anyObject, "itemType": obj{"type": "string"}, "crs": obj{"type": "array", "items": obj{"type": "string"}}}},
		"feature": obj{"type": "object", "required": []string{"type", "geometry", "properties"}, "properties": obj{
			"type": obj{"type": "string", "enum": []string{"Feature"}}, "id": obj{"type": "string"},
			"geometry":   obj{"type": "object", "nullable": true},
			"properties": obj{"type": "object", "nullable": true}, "links": links}},
		"featureCollection": obj{"type": "object", "required": []string{"type", "features"}, "properties": obj{
			"type": obj{"type": "string", "enum": []string{"FeatureCollection"}}, "features": obj{"type": "array", "items": ref("#/components/schemas/feature")},
			"links": links, "timeStamp": obj{"type": "string", "format": "date-time"},
			"numberMatched": obj{"type": "integer", "minimum": 0}, "numberReturned": obj{"type": "integer", "minimum": 0}}},
		"problem": obj{"type": "object", "properties": obj{
			"type": obj{"type": "string"}, "title": obj{"type": "string"}, "status": obj{"type": "integer"}, "detail": obj{"type": "string"},
			"instance": obj{"type": "string"}, "code": obj{"type": "string"}, "requestId": obj{"type": "string"},
			"errors": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
				"field": obj{"type": "string"}, "rule": obj{"type": "string"}, "message": obj{"type": "string"}}}}}},
	}
	desc := s.opts.Description
	if desc != "" {
		desc += "\n\n"
	}
	desc += "OGC API - Features - Part 1: Core with GeoJSON. Authenticate with `Authorization: Bearer <API token>` " +
		"(a token with the collections' permission, e.g. divisions:read) or the web session cookie. Every answer is " +
		"limited to the caller's region. Errors are RFC 9457 problems; an invalid parameter is 400."
	return obj{
		"openapi":  "3.0.3",
		"info":     obj{"title": s.opts.Title, "version": "1.0.0", "description": desc},
		"servers":  []any{obj{"url": base}},
		"tags":     []any{obj{"name": "OGC API - Features"}},
		"paths":    paths,
		"security": []any{obj{"bearer": []string{}}, obj{"session": []string{}}},
		"components": obj{
			"securitySchemes": obj{
				"bearer":  obj{"type": "http", "scheme": "bearer", "description": "API token issued to a department system"},
				"session": obj{"type": "apiKey", "in": "cookie", "name": "shuzhi_session", "description": "Browser session"},
			},
			"parameters": params,
			"responses":  responses,
			"schemas":    schemas,
		},
	}
}
