package main

import "gridbot/configs"

// simulatorTemplates maps the simulator's library templates
// (wechatsim.Library, wechatsim.SubscribeLibrary) to gridbot's kinds of
// notice, as the README tells an official to map the real ones: the demo
// and the end-to-end tests run with it.
func simulatorTemplates() (templates, subscribe map[string]configs.NoticeTemplate) {
	templates = map[string]configs.NoticeTemplate{
		"staff_case": {ID: "tpl-staff-case", Fields: map[string]string{
			"thing1": "category", "character_string2": "number", "thing3": "place", "time4": "deadline"}},
		"resident_progress": {ID: "tpl-progress", Fields: map[string]string{
			"character_string1": "number", "thing2": "category", "phrase3": "state", "thing4": "handler", "time5": "time"}},
		"rating": {ID: "tpl-resolved", Fields: map[string]string{
			"character_string1": "number", "thing2": "result", "phrase3": "state", "time4": "time"}},
		"warning": {ID: "tpl-warning", Fields: map[string]string{
			"character_string1": "number", "thing2": "summary", "time3": "deadline", "phrase4": "state"}},
	}
	subscribe = map[string]configs.NoticeTemplate{
		"resident_progress": {ID: "sub-progress", Fields: map[string]string{
			"character_string1": "number", "phrase2": "state", "thing3": "handler", "time4": "time"}},
	}
	return templates, subscribe
}
