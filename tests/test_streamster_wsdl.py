"""The served WSDL is the reference WSDL with the real soap:address."""

from __future__ import annotations

from pathlib import Path

import requests
from lxml import etree

from mock_streamster import StreamsterMock

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"
TNS = "http://www.novativa.com/ws/streamsterapi"
OPERATIONS = [
    "GetQuote", "GetOrders", "GetTrades", "GetPositions", "GetDesks", "GetBars", "GetLastMessage",
    "SendOrder", "ChangeOrder", "CancelOrder", "ChangePosition", "ClosePosition",
]  # fmt: skip
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "spec" / "streamster.wsdl"
PACKAGED = Path(__file__).resolve().parents[1] / "mock_streamster" / "streamster.wsdl"
NSMAP = {"w": WSDL, "s": SOAP, "x": XSD}


def _served(mock: StreamsterMock, path: str = "/service.wsdl") -> etree._Element:
    r = requests.get(mock.url + path, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/xml")
    return etree.fromstring(r.content)


def test_served_wsdl_names_namespace_and_style(streamster_mock: StreamsterMock) -> None:
    root = _served(streamster_mock)
    assert root.get("targetNamespace") == TNS
    assert root.get("name") == "StreamsterApi"
    service = root.find("w:service", NSMAP)
    assert service.get("name") == "StreamsterApi"
    port = service.find("w:port", NSMAP)
    assert port.get("name") == "StreamsterApiPort"
    assert port.get("binding") == "tns:StreamsterApiBinding"
    binding = root.find("w:binding", NSMAP)
    assert binding.get("name") == "StreamsterApiBinding"
    assert binding.get("type") == "tns:StreamsterApiInterface"
    assert root.find("w:portType", NSMAP).get("name") == "StreamsterApiInterface"
    sb = binding.find("s:binding", NSMAP)
    assert sb.get("style") == "document"
    assert sb.get("transport") == "http://schemas.xmlsoap.org/soap/http"
    schema = root.find("w:types/x:schema", NSMAP)
    assert schema.get("targetNamespace") == TNS and schema.get("elementFormDefault") == "qualified"


def test_served_wsdl_has_the_12_operations_each_with_its_soapaction_and_literal_bodies(
    streamster_mock: StreamsterMock,
) -> None:
    root = _served(streamster_mock)
    binding = root.find("w:binding", NSMAP)
    ops = binding.findall("w:operation", NSMAP)
    assert [o.get("name") for o in ops] == OPERATIONS
    for op in ops:
        assert op.find("s:operation", NSMAP).get("soapAction") == op.get("name")
        for direction in ("w:input", "w:output"):
            body = op.find(f"{direction}/s:body", NSMAP)
            assert body.get("use") == "literal"
    assert [o.get("name") for o in root.findall("w:portType/w:operation", NSMAP)] == OPERATIONS


def test_messages_are_bare_parts_naming_global_elements(streamster_mock: StreamsterMock) -> None:
    root = _served(streamster_mock)
    messages = {
        m.get("name"): [p.get("element") for p in m.findall("w:part", NSMAP)] for m in root.findall("w:message", NSMAP)
    }
    assert messages["GetBarsRequest"] == ["tns:Instrument", "tns:Period", "tns:Options"]
    assert messages["SendOrderRequest"] == messages["ChangeOrderRequest"] == ["tns:Order"]
    for op in ("GetOrders", "GetTrades", "GetPositions", "GetDesks", "GetLastMessage"):
        assert messages[f"{op}Request"] == []
    for op in ("SendOrder", "ChangeOrder", "CancelOrder", "ChangePosition", "ClosePosition"):
        assert messages[f"{op}Response"] == []
    assert messages["GetPositionsResponse"] == ["tns:Positions"]


def test_wrappers_declare_unbounded_optional_items(streamster_mock: StreamsterMock) -> None:
    root = _served(streamster_mock)
    schema = root.find("w:types/x:schema", NSMAP)
    for wrapper, item in (
        ("Orders", "Order"),
        ("Trades", "Trade"),
        ("Positions", "Position"),
        ("Desks", "Desk"),
        ("Bars", "Bar"),
    ):
        el = schema.find(f"x:element[@name='{wrapper}']", NSMAP)
        items = el.findall("x:complexType/x:sequence/x:element", NSMAP)
        assert len(items) == 1
        assert items[0].get("name") == item and items[0].get("type") == f"tns:{item}"
        assert items[0].get("minOccurs") == "0" and items[0].get("maxOccurs") == "unbounded"


def test_soap_address_is_the_url_actually_served(streamster_mock: StreamsterMock) -> None:
    for path in ("/service.wsdl", "/endpoint?wsdl", "/endpoint?WSDL"):
        address = _served(streamster_mock, path).find("w:service/w:port/s:address", NSMAP).get("location")
        assert address == streamster_mock.endpoint_url == f"http://127.0.0.1:{streamster_mock.port}/endpoint"


def test_served_wsdl_equals_the_reference_but_for_soap_address(streamster_mock: StreamsterMock) -> None:
    served = requests.get(streamster_mock.wsdl_url, timeout=10).text
    reference = (REFERENCE if REFERENCE.exists() else PACKAGED).read_text(encoding="utf-8")
    assert served.replace(streamster_mock.endpoint_url, "http://127.0.0.1:8018/endpoint") == reference
    if REFERENCE.exists():  # the packaged copy must not drift from the contract's
        assert PACKAGED.read_text(encoding="utf-8") == REFERENCE.read_text(encoding="utf-8")


def test_wildcard_bind_serves_the_address_the_client_used() -> None:
    with StreamsterMock(host="0.0.0.0") as m:
        root = etree.fromstring(requests.get(f"http://127.0.0.1:{m.port}/service.wsdl", timeout=10).content)
        assert root.find("w:service/w:port/s:address", NSMAP).get("location") == f"http://127.0.0.1:{m.port}/endpoint"
