//! DescribeCluster: this broker is the whole cluster and its controller.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};

use super::{str_bytes, Context};

pub(super) fn describe(
    ctx: &Context<'_>,
    request: DescribeClusterRequest,
) -> DescribeClusterResponse {
    let state = ctx.state;
    let broker = DescribeClusterBroker::default()
        .with_broker_id(BrokerId(state.config.node_id))
        .with_host(str_bytes(state.advertised_host.as_str()))
        .with_port(state.advertised_port);
    DescribeClusterResponse::default()
        .with_endpoint_type(request.endpoint_type)
        .with_cluster_id(str_bytes(state.config.cluster_id.as_str()))
        .with_controller_id(BrokerId(state.config.node_id))
        .with_brokers(vec![broker])
}
